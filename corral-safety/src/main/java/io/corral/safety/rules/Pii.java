package io.corral.safety.rules;

import java.math.BigInteger;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Personal data in text: e-mail addresses, phone numbers (international or North American forms, 10 to 15
 * digits), payment card numbers (13 to 19 digits passing the Luhn check), IBANs (the country's length and the
 * ISO 7064 mod-97 check) and US social security numbers (the SSA's invalid areas and groups left out). A number
 * that only looks like one (a card number failing Luhn, an order id) is not reported.
 */
final class Pii {

    static final String EMAIL = "pii/email";
    static final String PHONE = "pii/phone";
    static final String CARD = "pii/payment_card";
    static final String IBAN = "pii/iban";
    static final String SSN = "pii/us_ssn";
    static final List<String> ALL = List.of(EMAIL, PHONE, CARD, IBAN, SSN);

    private static final Pattern EMAIL_P = Pattern.compile(
            "(?<![\\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\\.)+[A-Za-z]{2,24}(?![\\w-])");
    private static final Pattern CARD_P = Pattern.compile("(?<![\\d-])(?:\\d[ -]?){12,18}\\d(?![\\d-])");
    private static final Pattern SSN_P = Pattern.compile("(?<![\\d-])(?!000|666|9\\d\\d)\\d{3}([- ])(?!00)\\d{2}\\1(?!0000)\\d{4}(?![\\d-])");
    private static final Pattern PHONE_P = Pattern.compile(
            "(?<![\\w+])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}(?:[ .-]\\d{2,4}){1,4}(?![\\w-])|(?<![\\w+])\\+\\d{10,14}(?!\\w)");
    private static final Pattern IBAN_P = Pattern.compile("(?<![A-Za-z0-9])([A-Z]{2})(\\d{2})((?: ?[A-Z0-9]){11,30})(?![A-Za-z0-9])");

    /** IBAN lengths by country (SWIFT's registry), for the countries most often seen. */
    private static final java.util.Map<String, Integer> IBAN_LENGTHS = java.util.Map.ofEntries(
            java.util.Map.entry("AD", 24), java.util.Map.entry("AT", 20), java.util.Map.entry("BE", 16), java.util.Map.entry("BG", 22),
            java.util.Map.entry("CH", 21), java.util.Map.entry("CY", 28), java.util.Map.entry("CZ", 24), java.util.Map.entry("DE", 22),
            java.util.Map.entry("DK", 18), java.util.Map.entry("EE", 20), java.util.Map.entry("ES", 24), java.util.Map.entry("FI", 18),
            java.util.Map.entry("FR", 27), java.util.Map.entry("GB", 22), java.util.Map.entry("GR", 27), java.util.Map.entry("HR", 21),
            java.util.Map.entry("HU", 28), java.util.Map.entry("IE", 22), java.util.Map.entry("IS", 26), java.util.Map.entry("IT", 27),
            java.util.Map.entry("LI", 21), java.util.Map.entry("LT", 20), java.util.Map.entry("LU", 20), java.util.Map.entry("LV", 21),
            java.util.Map.entry("MC", 27), java.util.Map.entry("MT", 31), java.util.Map.entry("NL", 18), java.util.Map.entry("NO", 15),
            java.util.Map.entry("PL", 28), java.util.Map.entry("PT", 25), java.util.Map.entry("RO", 24), java.util.Map.entry("SE", 24),
            java.util.Map.entry("SI", 19), java.util.Map.entry("SK", 24), java.util.Map.entry("SM", 27), java.util.Map.entry("TR", 26),
            java.util.Map.entry("UA", 29), java.util.Map.entry("AE", 23), java.util.Map.entry("SA", 24), java.util.Map.entry("IL", 23),
            java.util.Map.entry("BR", 29), java.util.Map.entry("QA", 29), java.util.Map.entry("KW", 30), java.util.Map.entry("MU", 30));

    private Pii() {
    }

    /**
     * Reports each kind found (once) in {@code types}, with the match masked but for its last 4 characters. The text
     * is read once for where data could be (an {@code @}; two capitals and two digits; a run of digits and separators
     * with at least 9 digits); the patterns run only there.
     */
    static void scan(String text, java.util.Set<String> types, java.util.function.BiConsumer<String, String> found) {
        if (types.contains(EMAIL)) {
            for (int at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
                int from = Math.max(0, at - 64);
                Matcher m = EMAIL_P.matcher(text).region(from, Math.min(text.length(), at + 256)).useTransparentBounds(true);
                if (m.find() && m.start() <= at && m.end() > at) {
                    found.accept(EMAIL, mask(m.group()));
                    break;
                }
            }
        }
        java.util.List<int[]> taken = new java.util.ArrayList<>(); // spans found as one kind are not another
        if (types.contains(IBAN)) {
            for (int i = 0; i + 3 < text.length(); i++) {
                if (isUpper(text.charAt(i)) && isUpper(text.charAt(i + 1)) && isDigit(text.charAt(i + 2)) && isDigit(text.charAt(i + 3))) {
                    Matcher m = IBAN_P.matcher(text).region(i, Math.min(text.length(), i + 48)).useTransparentBounds(true);
                    if (m.lookingAt()) {
                        String iban = m.group().replace(" ", "");
                        if (validIban(iban)) {
                            taken.add(new int[]{m.start(), m.end()});
                            found.accept(IBAN, mask(iban));
                            break;
                        }
                    }
                }
            }
        }
        boolean card = !types.contains(CARD);
        boolean ssn = !types.contains(SSN);
        boolean phone = !types.contains(PHONE);
        int i = 0;
        while (i < text.length() && !(card && ssn && phone)) {
            // a run of digits and separators, from a digit (or '+' or '(' before one) to a digit
            char c = text.charAt(i);
            if (!isDigit(c) && !((c == '+' || c == '(') && i + 1 < text.length() && isDigit(text.charAt(i + 1)))) {
                i++;
                continue;
            }
            int start = i;
            int end = i;
            int digits = 0;
            for (int j = i; j < text.length(); j++) {
                char d = text.charAt(j);
                if (isDigit(d)) {
                    digits++;
                    end = j + 1;
                } else if ("+-. ()".indexOf(d) < 0) {
                    break;
                }
            }
            i = Math.max(end, i + 1);
            if (digits < 9) {
                continue;
            }
            if (!card) {
                Matcher m = CARD_P.matcher(text).region(start, end).useTransparentBounds(true);
                while (m.find()) {
                    String number = m.group().replaceAll("[ -]", "");
                    if (number.length() >= 13 && number.length() <= 19 && luhn(number) && !inside(taken, m.start())) {
                        taken.add(new int[]{m.start(), m.end()});
                        found.accept(CARD, mask(number));
                        card = true;
                        break;
                    }
                }
            }
            if (!ssn) {
                Matcher m = SSN_P.matcher(text).region(start, end).useTransparentBounds(true);
                while (m.find()) {
                    if (!inside(taken, m.start())) {
                        taken.add(new int[]{m.start(), m.end()});
                        found.accept(SSN, mask(m.group()));
                        ssn = true;
                        break;
                    }
                }
            }
            if (!phone) {
                Matcher m = PHONE_P.matcher(text).region(start, end).useTransparentBounds(true);
                while (m.find()) {
                    String g = m.group();
                    int n = 0;
                    for (int k = 0; k < g.length(); k++) {
                        n += Character.isDigit(g.charAt(k)) ? 1 : 0;
                    }
                    if (n >= 10 && n <= 15 && !inside(taken, m.start()) && !date(g)) {
                        found.accept(PHONE, mask(g));
                        phone = true;
                        break;
                    }
                }
            }
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isUpper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    private static boolean inside(java.util.List<int[]> spans, int at) {
        for (int[] s : spans) {
            if (at >= s[0] && at < s[1]) {
                return true;
            }
        }
        return false;
    }

    /** 2024-01-15 10:30 and the like are not phone numbers. */
    private static boolean date(String s) {
        return s.matches("\\d{4}[-.]\\d{2}[-.]\\d{2}.*");
    }

    static boolean luhn(String digits) {
        int sum = 0;
        boolean twice = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (twice) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            twice = !twice;
        }
        return sum % 10 == 0 && !digits.chars().allMatch(c -> c == '0');
    }

    static boolean validIban(String iban) {
        Integer length = IBAN_LENGTHS.get(iban.substring(0, 2));
        if (length == null ? iban.length() < 15 || iban.length() > 34 : iban.length() != length) {
            return false;
        }
        String moved = iban.substring(4) + iban.substring(0, 4);
        StringBuilder numeric = new StringBuilder();
        for (char c : moved.toCharArray()) {
            numeric.append(Character.isDigit(c) ? String.valueOf(c) : String.valueOf(c - 'A' + 10));
        }
        return new BigInteger(numeric.toString()).mod(BigInteger.valueOf(97)).intValue() == 1;
    }

    /** What a finding shows of the data: its last four characters. */
    private static String mask(String s) {
        return s.length() <= 4 ? "****" : "*".repeat(Math.min(8, s.length() - 4)) + s.substring(s.length() - 4);
    }
}
