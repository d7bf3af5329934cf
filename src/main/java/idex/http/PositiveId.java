package idex.http;

import java.util.OptionalLong;

/** An id as a request spells it: a positive whole number, or nothing (each caller says what a bad one means). */
public final class PositiveId {

    private PositiveId() {
    }

    public static OptionalLong parse(String text) {
        if (text == null) {
            return OptionalLong.empty();
        }
        try {
            long id = Long.parseLong(text);
            return id > 0 ? OptionalLong.of(id) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
