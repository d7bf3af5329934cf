package idex.uid2;

import java.util.Locale;

/** The deployment's environment: the letter in client keys and the environment bits of raw UID v4. */
public enum IdentityEnvironment {
    LOCAL('L', 0),
    TEST('T', 0),
    INTEG('I', 1),
    PROD('P', 2);

    private final char letter;
    private final int envBits;

    IdentityEnvironment(char letter, int envBits) {
        this.letter = letter;
        this.envBits = envBits;
    }

    public char letter() {
        return letter;
    }

    public int envBits() {
        return envBits;
    }

    public static IdentityEnvironment parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown environment '" + text + "': use local, test, integ or prod");
        }
    }
}
