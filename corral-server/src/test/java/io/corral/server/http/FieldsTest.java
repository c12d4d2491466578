package io.corral.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Fields of the wrong type are a 400 naming the field; absent ones are null; the right type is its value. */
class FieldsTest {

    static JsonNode o(String json) throws Exception {
        return Json.MAPPER.readTree(json);
    }

    @Test
    void eachTypeIsRead_orRefusedNamingTheField() throws Exception {
        JsonNode o = o("{\"t\":0.5,\"s\":[\"a\",\"b\"],\"f\":true,\"n\":null,\"bad\":\"x\",\"mixed\":[\"a\",1],\"w\":3,\"w0\":3.0}");
        assertThat(Fields.whole(o, "w", "w")).isEqualTo(3L);
        assertThat(Fields.whole(o, "n", "n")).isNull();
        assertThat(Fields.number(o, "t", "options.t")).isEqualTo(0.5);
        assertThat(Fields.strings(o, "s", "s")).containsExactly("a", "b");
        assertThat(Fields.flag(o, "f", "f")).isTrue();
        assertThat(Fields.text(o, "bad", "bad")).isEqualTo("x");
        assertThat(Fields.number(o, "n", "n")).isNull();
        assertThat(Fields.strings(o, "absent", "absent")).isNull();
        assertThat(Fields.flag(o, "absent", "absent")).isNull();
        for (Runnable bad : new Runnable[]{() -> Fields.number(o, "bad", "options.bad"), () -> Fields.strings(o, "mixed", "options.bad"),
                () -> Fields.strings(o, "bad", "options.bad"), () -> Fields.flag(o, "bad", "options.bad"),
                () -> Fields.text(o, "t", "options.bad"), () -> Fields.whole(o, "t", "options.bad"), () -> Fields.whole(o, "w0", "options.bad"),
                () -> Fields.whole(o, "bad", "options.bad")}) {
            assertThatThrownBy(bad::run).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status).isEqualTo(400);
                assertThat(e.param).isEqualTo("options.bad");
                assertThat(e.getMessage()).startsWith("options.bad must be");
            });
        }
    }
}
