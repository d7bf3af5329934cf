package idex.uid2.envelope;

/** What a UID2 endpoint answers with on success, before encryption. */
public sealed interface Uid2Answer {

    /** A whole success document, `{"body":…,"status":"success"}`, small enough to encrypt at once. */
    record Whole(byte[] json) implements Uid2Answer {
    }

    /** A success document produced piece by piece (the full bucket list is about 70 MB of JSON). */
    record Streamed(ChunkSource source) implements Uid2Answer {
    }

    /** Produces the JSON document in pieces; null when done. Called on the event loop, so each piece is small. */
    interface ChunkSource {
        byte[] next();
    }
}
