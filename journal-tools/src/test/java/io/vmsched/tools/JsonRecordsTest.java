package io.vmsched.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Records written as JSON lines and parsed back with Jackson's own parser: every line is one object
 * with the dump's fields in order, and text with quotes, backslashes, control characters and
 * non-ASCII characters comes back as it was written.
 */
class JsonRecordsTest
{
    /** Quotes, a backslash, every kind of control character, accents, CJK, an emoji (a surrogate pair), U+2028. */
    private static final String AWKWARD = "say \"no\" \\ to\ttabs,\nnew lines,\r\u0000\u0001\u001f\u007f " +
        "café, naïve, 日本語, 😀, \u2028 end";
    private static final String KIND = "kïnd \"quoted\"";
    private static final long MIGRATION = JournalRecord.migrationId(0, 3);
    private static final JsonFactory PARSERS = new JsonFactory();

    private static void write(final Path dir)
    {
        try (ChronicleJournal host0 = ChronicleJournal.open(dir.resolve("0"), 0);
            ChronicleJournal host1 = ChronicleJournal.open(dir.resolve("1"), 1))
        {
            host0.appendGuest(RecordType.ADMITTED, 0, 7, -1, 0, KIND.getBytes(StandardCharsets.UTF_8), new byte[5]);
            host0.append(RecordType.MIGRATION_INTENT, MIGRATION, 7, 1, 0, 0.25, 0.125);
            host1.appendText(RecordType.ABORTED, MIGRATION, 7, 0, 0, 0, 0, io.vmsched.journal.AbortReason.TARGET_DID_NOT_ACTIVATE.code(), AWKWARD);
            host0.appendText(RecordType.DECISION, 0, -1, 1, 0, Double.NaN, Double.POSITIVE_INFINITY, 0, "");
        }
    }

    private static List<String> lines(final Path dir, final long from, final long to, final long vm, final RecordType type)
    {
        final StringWriter out = new StringWriter();
        try (JournalSet set = JournalSet.open(dir); JsonRecords records = new JsonRecords(out))
        {
            set.forEach(new RecordFilter(from, to, vm, type, records));
        }
        final String text = out.toString();
        assertTrue(text.isEmpty() || text.endsWith("\n"), "every line ended: " + text);
        return text.lines().toList();
    }

    /** Parse a line: exactly one flat object, fields in order; numbers as Long or Double, null as null. */
    private static Map<String, Object> parse(final String line) throws IOException
    {
        final Map<String, Object> fields = new LinkedHashMap<>();
        try (JsonParser parser = PARSERS.createParser(line))
        {
            assertEquals(JsonToken.START_OBJECT, parser.nextToken(), line);
            while (parser.nextToken() == JsonToken.FIELD_NAME)
            {
                final String name = parser.currentName();
                final JsonToken value = parser.nextToken();
                fields.put(name, switch (value)
                {
                    case VALUE_NUMBER_INT -> parser.getLongValue();
                    case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
                    case VALUE_STRING -> parser.getText();
                    case VALUE_NULL -> null;
                    default -> throw new AssertionError("unexpected " + value + " in " + line);
                });
            }
            assertEquals(JsonToken.END_OBJECT, parser.currentToken(), line);
            assertNull(parser.nextToken(), "one value on the line: " + line);
        }
        return fields;
    }

    @Test
    void everyLineParsesWithTheDumpsFieldsAndTextComesBackAsWritten(@TempDir final Path dir) throws IOException
    {
        write(dir);
        final List<String> lines = lines(dir, 0, Long.MAX_VALUE, RecordFilter.ANY_VM, null);
        assertEquals(4, lines.size(), lines.toString());
        final List<Map<String, Object>> records = new ArrayList<>();
        for (final String line : lines)
        {
            assertTrue(line.chars().allMatch(c -> c >= 0x20), "control characters escaped: " + line);
            records.add(parse(line));
        }
        final List<String> common = List.of("seq", "host", "index", "timeNs", "type", "migration", "vm", "peer", "aux",
            "a", "b");

        final Map<String, Object> admitted = records.get(0);
        assertEquals(concat(common, "kind", "stateBytes"), List.copyOf(admitted.keySet()));
        assertEquals(0L, admitted.get("seq"));
        assertEquals("ADMITTED", admitted.get("type"));
        assertEquals(KIND, admitted.get("kind"));
        assertEquals(5L, admitted.get("stateBytes"));

        final Map<String, Object> intent = records.get(1);
        assertEquals(common, List.copyOf(intent.keySet()));
        assertEquals(MIGRATION, intent.get("migration"));
        assertEquals(0.25, intent.get("a"));
        assertEquals(0.125, intent.get("b"));

        final Map<String, Object> aborted = records.get(2);
        assertEquals(concat(common, "code", "text"), List.copyOf(aborted.keySet()));
        assertEquals("target-did-not-activate", aborted.get("code"));
        assertEquals(1L, aborted.get("host"));
        assertEquals(AWKWARD, aborted.get("text"), "quotes, control characters and non-ASCII round-trip");
        assertTrue(lines.get(2).contains("café, naïve, 日本語, 😀"), "non-ASCII written as it is: " + lines.get(2));

        final Map<String, Object> decision = records.get(3);
        assertTrue(decision.containsKey("a") && decision.get("a") == null, "NaN as null: " + lines.get(3));
        assertTrue(decision.containsKey("b") && decision.get("b") == null, "Infinity as null: " + lines.get(3));
        assertEquals(-1L, decision.get("vm"));
        assertEquals("", decision.get("text"));
        assertEquals("unknown", decision.get("code"));
    }

    @Test
    void theFilterPassesOnlyTheRangeTheVmAndTheTypeAsked(@TempDir final Path dir) throws IOException
    {
        write(dir);
        assertEquals(List.of(1L, 2L), seqs(lines(dir, 1, 2, RecordFilter.ANY_VM, null)));
        assertEquals(List.of(0L, 1L, 2L), seqs(lines(dir, 0, Long.MAX_VALUE, 7, null)));
        assertEquals(List.of(2L), seqs(lines(dir, 0, Long.MAX_VALUE, 7, RecordType.ABORTED)));
        assertEquals(List.of(), seqs(lines(dir, 0, 1, RecordFilter.ANY_VM, RecordType.DECISION)));
    }

    private static List<Long> seqs(final List<String> lines) throws IOException
    {
        final List<Long> seqs = new ArrayList<>();
        for (final String line : lines)
        {
            seqs.add((Long)parse(line).get("seq"));
        }
        return seqs;
    }

    private static List<String> concat(final List<String> head, final String... tail)
    {
        final List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }
}
