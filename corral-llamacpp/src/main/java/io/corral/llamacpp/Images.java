package io.corral.llamacpp;

import io.corral.api.ChatMessage;
import io.corral.api.ContentPart;
import io.corral.api.InvalidRequestException;
import io.corral.llamacpp.ffi.NativeVision;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;

/**
 * The images of a chat request, read for the projector: a {@code data:} URL's bytes, or an http(s) URL's (fetched
 * without following redirects: the server checked the URL it was given against its URL policy, not where a redirect
 * would lead), decoded in Java (PNG, JPEG, GIF, BMP) to RGB. Bounded: {@value ContentPart#MAX_IMAGE_BYTES} bytes of file and
 * {@value #MAX_PIXELS} pixels, checked from the header before decoding, so that a small file cannot claim a huge image. A file given to the CLI arrives as a
 * data URL ({@link ContentPart#imageFile}).
 */
final class Images {

    static final long MAX_PIXELS = 4096L * 4096; // ~16 MP: about 10 bytes a pixel while decoded (the picture, RGB, native)
    private static final int TIMEOUT_MS = 15_000;

    private Images() {
    }

    /** The messages with each image part replaced by {@code marker} in its message's text (one text part a message). */
    static List<ChatMessage> marked(List<ChatMessage> messages, String marker) {
        List<ChatMessage> out = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            if (!m.hasImages()) {
                out.add(m);
                continue;
            }
            StringBuilder text = new StringBuilder();
            for (ContentPart part : m.content()) {
                text.append(part instanceof ContentPart.Text t ? t.text() : marker);
            }
            out.add(new ChatMessage(m.role(), List.of(ContentPart.text(text.toString())), m.toolCalls(), m.toolCallId()));
        }
        return out;
    }

    /** The images of {@code messages}, decoded in order; {@code first} is the first message's index in the request. */
    static List<NativeVision.Image> decoded(List<ChatMessage> messages, int first) {
        List<NativeVision.Image> images = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            List<ContentPart> parts = messages.get(i).content();
            for (int j = 0; j < parts.size(); j++) {
                if (parts.get(j) instanceof ContentPart.Image image) {
                    images.add(decode(image.url(), "messages[" + (first + i) + "].content[" + j + "].image_url"));
                }
            }
        }
        return images;
    }

    /** An image URL's picture as RGB. */
    static NativeVision.Image decode(String url, String param) {
        return rgb(bytes(url, param), param);
    }

    private static byte[] bytes(String url, String param) {
        if (url.regionMatches(true, 0, "data:", 0, 5)) {
            int comma = url.indexOf(',');
            if (comma < 0 || !url.substring(0, comma).toLowerCase(java.util.Locale.ROOT).endsWith(";base64")) {
                throw new InvalidRequestException(param, param + " must be a base64 data URL (data:image/png;base64,...)");
            }
            if ((long) (url.length() - comma - 1) * 3 / 4 > ContentPart.MAX_IMAGE_BYTES) {
                throw new InvalidRequestException(param, param + " is over " + (ContentPart.MAX_IMAGE_BYTES >> 20) + " MiB");
            }
            try {
                return Base64.getDecoder().decode(url.substring(comma + 1).replaceAll("\\s", ""));
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(param, param + " is not valid base64: " + e.getMessage());
            }
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(param, param + " is not a URL");
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
            throw new InvalidRequestException(param, param + " must be a data: or http(s) URL");
        }
        try {
            HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(TIMEOUT_MS);
            c.setReadTimeout(TIMEOUT_MS);
            try {
                int status = c.getResponseCode();
                if (status != 200) {
                    throw new InvalidRequestException(param, param + " answered HTTP " + status
                            + (status / 100 == 3 ? " (a redirect, not followed: give the image's own URL)" : ""));
                }
                try (InputStream in = c.getInputStream()) {
                    byte[] b = in.readNBytes(ContentPart.MAX_IMAGE_BYTES + 1);
                    if (b.length > ContentPart.MAX_IMAGE_BYTES) {
                        throw new InvalidRequestException(param, param + " is over " + (ContentPart.MAX_IMAGE_BYTES >> 20) + " MiB");
                    }
                    return b;
                }
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            throw new InvalidRequestException(param, param + " could not be fetched: " + e.getMessage());
        }
    }

    private static NativeVision.Image rgb(byte[] file, String param) {
        BufferedImage picture;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(file))) {
            Iterator<ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InvalidRequestException(param, param + " is not an image this server reads (PNG, JPEG, GIF or BMP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new InvalidRequestException(param, param + " is " + reader.getWidth(0) + "x"
                            + reader.getHeight(0) + " pixels, over " + MAX_PIXELS);
                }
                picture = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidRequestException r) {
                throw r;
            }
            throw new InvalidRequestException(param, param + " could not be decoded: " + e.getMessage());
        }
        int w = picture.getWidth();
        int h = picture.getHeight();
        int[] row = new int[w]; // a row at a time: no second copy of the whole picture
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0, o = 0; y < h; y++) {
            picture.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++, o += 3) {
                rgb[o] = (byte) (row[x] >> 16);
                rgb[o + 1] = (byte) (row[x] >> 8);
                rgb[o + 2] = (byte) row[x];
            }
        }
        return new NativeVision.Image(w, h, rgb);
    }
}
