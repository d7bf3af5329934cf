package idex.uid2.salts;

import java.io.IOException;

/** A salt snapshot (metadata or CSV) whose content is wrong, as opposed to one that cannot be read at all. */
public final class SaltFileException extends IOException {
    public SaltFileException(String message) {
        super(message);
    }
}
