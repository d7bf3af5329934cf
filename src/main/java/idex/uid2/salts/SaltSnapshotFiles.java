package idex.uid2.salts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import idex.json.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import de.siegmar.fastcsv.reader.CsvParseException;
import de.siegmar.fastcsv.reader.CsvReader;
import de.siegmar.fastcsv.reader.CsvRecord;
import de.siegmar.fastcsv.reader.FieldMismatchStrategy;
import de.siegmar.fastcsv.writer.CsvWriter;
import de.siegmar.fastcsv.writer.LineDelimiter;
import idex.store.OwnerOnly;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads and writes salt snapshots in the reference operator's file format, so an operator can move to or from it:
 * {@code metadata.json} plus one CSV line per bucket,
 * {@code id,lastUpdated,currentSalt,refreshFrom,previousSalt,curKeyId,curKey,curKeySalt,prevKeyId,prevKey,prevKeySalt}
 * (no header, empty field = absent). Rows are streamed both ways: production snapshots have 1,048,576 of them.
 */
public final class SaltSnapshotFiles {
    public static final String METADATA_FILE = "metadata.json";
    public static final String SALTS_FILE = "salts.txt";
    /** 9999-12-31T23:59:59Z, the reference's "never expires". */
    public static final long NEVER_EXPIRES_MILLIS = 253402329599000L;

    private static final int COLUMNS = 11;
    private static final int MAX_KEY_ID = 0xFFFFFF; // a raw UID v4 carries the key id in 3 bytes
    private static final int AES_256_KEY_CHARS = 32;
    private static final ObjectMapper JSON = Json.MAPPER;

    private record SnapshotEntry(long effective, String location, long size) {
    }

    private SaltSnapshotFiles() {
    }

    public static SaltSnapshotMetadata readMetadata(Path dir) throws IOException {
        JsonNode root = readMetadataJson(dir);
        return new SaltSnapshotMetadata(requiredText(root, "first_level"), requiredText(root, "id_prefix"),
                requiredText(root, "id_secret"));
    }

    /**
     * Streams, in file order, the rows of the snapshot in effect at {@code nowMillis}: the one with the greatest
     * {@code effective} ≤ now, or the earliest if none is effective yet. Every row is validated; the first bad one
     * fails with a {@link SaltFileException} naming its line. The row count must match the snapshot's {@code size}
     * (bucket positions depend on it); that is checked after the last row.
     */
    public static void readRows(Path dir, long nowMillis, Consumer<SaltFileRow> sink) throws IOException {
        SnapshotEntry snapshot = snapshotInEffect(readMetadataJson(dir), nowMillis);
        Path csv = locate(dir, snapshot.location());
        String file = csv.getFileName().toString();
        long rows = 0;
        try (CsvReader<CsvRecord> reader = CsvReader.builder()
                // column counts are checked per row below, with the line number and a clearer message
                .extraFieldStrategy(FieldMismatchStrategy.IGNORE)
                .missingFieldStrategy(FieldMismatchStrategy.IGNORE)
                .ofCsvRecord(csv, StandardCharsets.UTF_8)) {
            for (CsvRecord record : reader) {
                sink.accept(parseRow(record, file));
                rows++;
            }
        } catch (CsvParseException e) {
            throw new SaltFileException(file + ": " + e.getMessage());
        }
        if (rows != snapshot.size()) {
            throw new SaltFileException(file + ": metadata declares " + snapshot.size() + " buckets but the file has "
                    + rows + " rows");
        }
    }

    /**
     * Writes {@code metadata.json} (one snapshot, effective at {@code generatedMillis}, never expiring) and
     * {@code salts.txt}. Both are written to temporary files and moved into place, salts first, so a reader never
     * sees metadata pointing at a half-written CSV; on any error (including a row count other than
     * {@code rowCount}) nothing is replaced. {@code version} is {@code generatedMillis} so that it grows with every
     * export, as the reference's reload check expects. Both files are owner-only (0600); `dir` is the caller's.
     */
    public static void write(Path dir, SaltSnapshotMetadata meta, long generatedMillis, int rowCount,
                             Iterator<SaltFileRow> rows) throws IOException {
        Files.createDirectories(dir);
        // The salts and the id secret are secrets: owner-only (0600) from creation, and the moves below keep the mode.
        Path csvTemp = Files.createTempFile(dir, SALTS_FILE, ".tmp", OwnerOnly.fileAttributes(dir));
        Path metaTemp = Files.createTempFile(dir, METADATA_FILE, ".tmp", OwnerOnly.fileAttributes(dir));
        try {
            writeRows(csvTemp, rowCount, rows);
            JSON.writerWithDefaultPrettyPrinter()
                    .writeValue(metaTemp.toFile(), metadataJson(meta, generatedMillis, rowCount));
            Files.move(csvTemp, dir.resolve(SALTS_FILE), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            Files.move(metaTemp, dir.resolve(METADATA_FILE), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(csvTemp);
            Files.deleteIfExists(metaTemp);
        }
    }

    private static void writeRows(Path csv, int rowCount, Iterator<SaltFileRow> rows) throws IOException {
        long written = 0;
        try (CsvWriter writer = CsvWriter.builder().lineDelimiter(LineDelimiter.LF)
                .build(csv, StandardCharsets.UTF_8)) {
            while (rows.hasNext()) {
                SaltFileRow row = rows.next();
                written++;
                String problem = problemWith(row);
                if (problem != null) {
                    throw new SaltFileException("row " + written + " (bucket " + row.id() + "): " + problem);
                }
                writer.writeRecord(columns(row));
            }
        }
        if (written != rowCount) {
            throw new SaltFileException("expected " + rowCount + " rows, got " + written);
        }
    }

    private static String[] columns(SaltFileRow row) {
        KeyMaterial cur = row.currentKey();
        KeyMaterial prev = row.previousKey();
        return new String[] {
            Long.toString(row.id()), Long.toString(row.lastUpdated()), row.currentSalt(),
            Long.toString(row.refreshFrom()), row.previousSalt(),
            cur == null ? null : Integer.toString(cur.keyId()), cur == null ? null : cur.key(),
            cur == null ? null : cur.salt(),
            prev == null ? null : Integer.toString(prev.keyId()), prev == null ? null : prev.key(),
            prev == null ? null : prev.salt(),
        };
    }

    private static ObjectNode metadataJson(SaltSnapshotMetadata meta, long generatedMillis, int rowCount)
            throws SaltFileException {
        if (meta.firstLevelSalt() == null || meta.idPrefix() == null || meta.idSecret() == null) {
            throw new SaltFileException("metadata needs first_level, id_prefix and id_secret");
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("version", generatedMillis);
        root.put("generated", generatedMillis / 1000); // the reference writes seconds here, milliseconds below
        root.put("first_level", meta.firstLevelSalt());
        root.put("id_prefix", meta.idPrefix());
        root.put("id_secret", meta.idSecret());
        ObjectNode snapshot = root.putArray("salts").addObject();
        snapshot.put("effective", generatedMillis);
        snapshot.put("expires", NEVER_EXPIRES_MILLIS);
        snapshot.put("location", SALTS_FILE);
        snapshot.put("size", rowCount);
        return root;
    }

    private static SaltFileRow parseRow(CsvRecord record, String file) throws SaltFileException {
        long line = record.getStartingLineNumber();
        if (record.getFieldCount() != COLUMNS) {
            throw lineError(file, line, "expected " + COLUMNS + " columns, found " + record.getFieldCount());
        }
        SaltFileRow row = new SaltFileRow(
                number(record, 0, "id", file), number(record, 1, "lastUpdated", file), emptyToNull(record.getField(2)),
                number(record, 3, "refreshFrom", file), emptyToNull(record.getField(4)),
                keyMaterial(record, 5, "cur", file), keyMaterial(record, 8, "prev", file));
        String problem = problemWith(row);
        if (problem != null) {
            throw lineError(file, line, problem);
        }
        return row;
    }

    private static KeyMaterial keyMaterial(CsvRecord record, int first, String which, String file)
            throws SaltFileException {
        String id = record.getField(first);
        String key = record.getField(first + 1);
        String salt = record.getField(first + 2);
        if (id.isEmpty() && key.isEmpty() && salt.isEmpty()) {
            return null;
        }
        if (id.isEmpty() || key.isEmpty() || salt.isEmpty()) {
            throw lineError(file, record.getStartingLineNumber(),
                    which + "KeyId, " + which + "Key and " + which + "KeySalt must be all set or all empty");
        }
        long keyId = number(record, first, which + "KeyId", file);
        if (keyId > MAX_KEY_ID) {
            throw lineError(file, record.getStartingLineNumber(), which + "KeyId " + keyId + " does not fit in 3 bytes");
        }
        return new KeyMaterial((int) keyId, key, salt);
    }

    private static long number(CsvRecord record, int column, String name, String file) throws SaltFileException {
        String text = record.getField(column);
        // Digits only (no sign, no spaces): anything else would not survive a write/read round trip unchanged.
        boolean digits = !text.isEmpty() && text.length() <= 18 && text.chars().allMatch(c -> c >= '0' && c <= '9');
        if (!digits) {
            throw lineError(file, record.getStartingLineNumber(), name + " is not a non-negative number: '" + text + "'");
        }
        return Long.parseLong(text);
    }

    /** Why a row cannot be stored in (or was wrongly stored in) the file format; null if it is fine. */
    private static String problemWith(SaltFileRow row) {
        if (row.id() < 0 || row.lastUpdated() < 0 || row.refreshFrom() < 0) {
            return "id, lastUpdated and refreshFrom must not be negative";
        }
        if (row.currentSalt() == null && row.currentKey() == null) {
            return "bucket has neither currentSalt nor current key material";
        }
        if (row.currentSalt() != null && !isSalt(row.currentSalt())) {
            return "currentSalt is not base64 of 32 bytes";
        }
        if (row.previousSalt() != null && !isSalt(row.previousSalt())) {
            return "previousSalt is not base64 of 32 bytes";
        }
        String keyProblem = problemWith(row.currentKey(), "cur");
        return keyProblem != null ? keyProblem : problemWith(row.previousKey(), "prev");
    }

    private static String problemWith(KeyMaterial key, String which) {
        if (key == null) {
            return null;
        }
        if (key.keyId() < 0 || key.keyId() > MAX_KEY_ID) {
            return which + "KeyId " + key.keyId() + " does not fit in 3 bytes";
        }
        if (key.key() == null || key.key().length() != AES_256_KEY_CHARS || !isPlainAscii(key.key())) {
            return which + "Key is not 32 printable ASCII characters (an AES-256 key)";
        }
        if (key.salt() == null || key.salt().isEmpty() || !isPlainAscii(key.salt())) {
            return which + "KeySalt is not printable ASCII";
        }
        return null;
    }

    // Salts are used as their ASCII text; the reference generates them as base64 of 32 random bytes. The JDK
    // decoder tolerates non-zero trailing bits, which the reference's own test salts contain.
    private static boolean isSalt(String s) {
        if (s.length() != 44) {
            return false;
        }
        try {
            return Base64.getDecoder().decode(s).length == 32;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    // Printable ASCII without CSV metacharacters, so the value is written verbatim and read back unchanged.
    private static boolean isPlainAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c > '~' || c == ',' || c == '"') {
                return false;
            }
        }
        return true;
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    private static SaltFileException lineError(String file, long line, String what) {
        return new SaltFileException(file + " line " + line + ": " + what);
    }

    private static JsonNode readMetadataJson(Path dir) throws IOException {
        Path file = dir.resolve(METADATA_FILE);
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SaltFileException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SaltFileException(file + ": not a JSON object");
        }
        return root;
    }

    private static String requiredText(JsonNode root, String field) throws SaltFileException {
        JsonNode node = root.get(field);
        if (node == null || !node.isTextual() || node.asText().isEmpty()) {
            throw new SaltFileException(METADATA_FILE + ": '" + field + "' must be a non-empty string");
        }
        return node.asText();
    }

    private static SnapshotEntry snapshotInEffect(JsonNode root, long nowMillis) throws SaltFileException {
        JsonNode salts = root.get("salts");
        if (salts == null || !salts.isArray() || salts.isEmpty()) {
            throw new SaltFileException(METADATA_FILE + ": 'salts' must be a non-empty array");
        }
        List<SnapshotEntry> entries = new ArrayList<>();
        for (JsonNode salt : salts) {
            JsonNode effective = salt.get("effective");
            JsonNode location = salt.get("location");
            JsonNode size = salt.get("size");
            if (effective == null || !effective.canConvertToLong() || location == null || !location.isTextual()
                    || size == null || !size.canConvertToLong() || size.asLong() < 0) {
                throw new SaltFileException(METADATA_FILE + ": every snapshot needs numeric 'effective' and 'size' "
                        + "and a string 'location'");
            }
            entries.add(new SnapshotEntry(effective.asLong(), location.asText(), size.asLong()));
        }
        SnapshotEntry inEffect = null;
        SnapshotEntry earliest = null;
        for (SnapshotEntry entry : entries) {
            if (entry.effective() <= nowMillis && (inEffect == null || entry.effective() > inEffect.effective())) {
                inEffect = entry;
            }
            if (earliest == null || entry.effective() < earliest.effective()) {
                earliest = entry;
            }
        }
        return inEffect != null ? inEffect : earliest;
    }

    // The reference's locations are object-store keys (e.g. "salts/salts.txt.1745907348982"); a copied snapshot
    // usually has the file next to metadata.json, so fall back to the key's last segment.
    private static Path locate(Path dir, String location) throws NoSuchFileException {
        Path asGiven = dir.resolve(location);
        if (Files.isRegularFile(asGiven)) {
            return asGiven;
        }
        Path fileName = Path.of(location).getFileName();
        Path besideMetadata = fileName == null ? asGiven : dir.resolve(fileName);
        if (Files.isRegularFile(besideMetadata)) {
            return besideMetadata;
        }
        throw new NoSuchFileException(asGiven.toString(), null, "salt file named in " + METADATA_FILE + " not found");
    }
}
