package io.vmsched.journal;

import io.vmsched.balance.DecisionOutcome;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.*;

class ChronicleJournalTest
{
    private static final byte[] KIND = "test-kind".getBytes(StandardCharsets.UTF_8);

    @Test
    void everyRecordComesBackInOrderWithItsFields(@TempDir final Path dir)
    {
        final byte[] state = "state-bytes-0123456789".getBytes(StandardCharsets.UTF_8);
        try (ChronicleJournal journal = ChronicleJournal.open(dir.resolve("7"), 7))
        {
            journal.appendGuest(RecordType.ADMITTED, 0, 42, -1, 3, KIND, state);
            journal.append(RecordType.MIGRATION_INTENT, 99, 42, 2, 0, 0.5, 0.25);
            journal.appendText(RecordType.ABORTED, 99, 42, 2, 0, 0, 0, AbortReason.TARGET_DID_NOT_ACTIVATE.code(),
                "target refused: täst");
            journal.append(RecordType.LOAD_SNAPSHOT, 0, -1, -1, 5, 0.75, 0);
        }
        final List<String> seen = new ArrayList<>();
        final List<Long> indices = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir.resolve("7"), 7))
        {
            final long count = journal.replay((index, record) ->
            {
                indices.add(index);
                assertEquals(7, record.host());
                switch (record.type())
                {
                    case ADMITTED:
                        assertEquals(42, record.vmId());
                        assertEquals(3, record.aux());
                        assertEquals("test-kind", record.guestKind());
                        assertArrayEquals(state, record.guestState());
                        break;
                    case MIGRATION_INTENT:
                        assertEquals(99, record.migrationId());
                        assertEquals(2, record.peer());
                        assertEquals(0.5, record.a());
                        assertEquals(0.25, record.b());
                        break;
                    case ABORTED:
                        assertEquals("target refused: täst", record.text());
                        assertEquals(AbortReason.TARGET_DID_NOT_ACTIVATE, record.abortReason());
                        break;
                    case LOAD_SNAPSHOT:
                        assertEquals(5, record.aux());
                        assertEquals(0, record.code(), "no code");
                        break;
                    default:
                        fail("unexpected " + record);
                }
                assertTrue(record.timestampNs() > 1_600_000_000_000_000_000L, "epoch ns");
                seen.add(record.type().name());
            });
            assertEquals(4, count);
        }
        assertEquals(List.of("ADMITTED", "MIGRATION_INTENT", "ABORTED", "LOAD_SNAPSHOT"), seen);
        for (int i = 1; i < indices.size(); i++)
        {
            assertTrue(indices.get(i) > indices.get(i - 1), "indices increase");
        }
    }

    @Test
    void reopeningAppendsAfterWhatIsThere(@TempDir final Path dir)
    {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 1))
        {
            journal.append(RecordType.HOST_STARTED, 0, -1, -1, 0, 0, 0);
        }
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 1))
        {
            journal.append(RecordType.HOST_STARTED, 0, -1, -1, 1, 0, 0);
            final List<Integer> aux = new ArrayList<>();
            journal.replay((index, record) -> aux.add(record.aux()));
            assertEquals(List.of(0, 1), aux);
        }
    }

    @Test
    void aFlippedByteIsDetectedAndNamesTheRecord(@TempDir final Path dir) throws IOException
    {
        final byte[] marker = "MARKER-MARKER-MARKER".getBytes(StandardCharsets.UTF_8);
        final long[] second = new long[1];
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 3))
        {
            journal.append(RecordType.HOST_STARTED, 0, -1, -1, 0, 0, 0);
            second[0] = journal.appendGuest(RecordType.ADMITTED, 0, 5, -1, 1, KIND, marker);
            journal.append(RecordType.REMOVED, 0, 5, -1, 0, 0, 0);
        }
        final Path file;
        try (Stream<Path> files = Files.list(dir))
        {
            file = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        final byte[] bytes = Files.readAllBytes(file);
        final int at = indexOf(bytes, marker);
        assertTrue(at > 0, "marker found in " + file);
        bytes[at + 3] ^= 0x40;
        Files.write(file, bytes);

        final List<RecordType> before = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir, 3))
        {
            final JournalCorruptException e = assertThrows(JournalCorruptException.class,
                () -> journal.replay((index, record) -> before.add(record.type())));
            assertEquals(second[0], e.index());
            assertTrue(e.getMessage().contains("CRC32C mismatch") && e.getMessage().contains(dir.toString()),
                e.getMessage());
        }
        assertEquals(List.of(RecordType.HOST_STARTED), before, "records before the bad one are delivered");
    }

    @Test
    void aMegabyteStateRoundTripsAndAnOversizedOneIsRefused(@TempDir final Path dir)
    {
        final byte[] state = new byte[1 << 20];
        new java.util.Random(3).nextBytes(state);
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 2))
        {
            journal.appendGuest(RecordType.RECEIVED, 9, 4, 1, 1, KIND, state);
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> journal.appendGuest(RecordType.RECEIVED, 10, 4, 1, 1, KIND, new byte[JournalRecord.MAX_PAYLOAD]));
            assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
            final List<byte[]> states = new ArrayList<>();
            journal.replay((index, record) -> states.add(record.guestState()));
            assertEquals(1, states.size());
            assertArrayEquals(state, states.get(0));
        }
    }

    @Test
    void aFlippedTypeByteIsDetectedToo(@TempDir final Path dir) throws IOException
    {
        final byte[] marker = "TYPE-MARKER-TYPE-MARKER".getBytes(StandardCharsets.UTF_8);
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 3))
        {
            journal.appendGuest(RecordType.ADMITTED, 0, 5, -1, 1, KIND, marker);
        }
        final Path file;
        try (Stream<Path> files = Files.list(dir))
        {
            file = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        final byte[] bytes = Files.readAllBytes(file);
        final int header = indexOf(bytes, marker) - 2 - KIND.length - JournalRecord.HEADER_LENGTH;
        assertEquals(RecordType.ADMITTED.code(), bytes[header + 1], "found the record's type byte");
        bytes[header + 1] = (byte)RecordType.REMOVED.code(); // ADMITTED -> REMOVED would lose the VM
        Files.write(file, bytes);
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir, 3))
        {
            final JournalCorruptException e = assertThrows(JournalCorruptException.class,
                () -> journal.replay((index, record) -> fail("decoded " + record)));
            assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
        }
    }

    @Test
    void aCodeRoundTripsWithItsTextAndTheCrcCoversIt(@TempDir final Path dir) throws IOException
    {
        final String detail = "CODE-DETAIL-CODE-DETAIL";
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 4))
        {
            journal.appendText(RecordType.DECISION, 0, 8, 1, 1, 0.9, 0.3, DecisionOutcome.DRY_RUN.code(), detail);
            journal.appendText(RecordType.ABORTED, 12, 8, 1, 0, 0, 0, AbortReason.RESOLVED_BEFORE_TRANSFER.code(), "x");
            final List<String> seen = new ArrayList<>();
            journal.replay((index, record) -> seen.add(record.type() + " " + record.code() + " " + record.decisionOutcome() +
                " " + record.abortReason() + " " + record.text()));
            assertEquals(List.of("DECISION 2 DRY_RUN UNKNOWN " + detail, "ABORTED 7 UNKNOWN RESOLVED_BEFORE_TRANSFER x"),
                seen, "each helper answers only for its type");
        }
        final Path file;
        try (Stream<Path> files = Files.list(dir))
        {
            file = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        final byte[] bytes = Files.readAllBytes(file);
        final int header = indexOf(bytes, detail.getBytes(StandardCharsets.UTF_8)) - JournalRecord.HEADER_LENGTH;
        assertEquals(JournalRecord.HEADER_LENGTH, bytes[header + 2], "found the record's header");
        assertEquals(DecisionOutcome.DRY_RUN.code(), bytes[header + 64], "the code is at offset 64");
        bytes[header + 64] = (byte)DecisionOutcome.MOVED.code(); // a dry run read as a move
        Files.write(file, bytes);
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir, 4))
        {
            final JournalCorruptException e = assertThrows(JournalCorruptException.class,
                () -> journal.replay((index, record) -> fail("decoded " + record)));
            assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
        }
    }

    @Test
    void aRecordWithTheOldSixtyFourByteHeaderStillDecodes(@TempDir final Path dir)
    {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 6))
        {
            writeOldLayout(journal, RecordType.ABORTED, 77, "the target did not activate it".getBytes(StandardCharsets.UTF_8));
            final byte[] guest = new byte[2 + KIND.length + 3];
            new UnsafeBuffer(guest).putShort(0, (short)KIND.length, JournalRecord.ORDER);
            System.arraycopy(KIND, 0, guest, 2, KIND.length);
            guest[guest.length - 1] = 9;
            writeOldLayout(journal, RecordType.ADMITTED, 0, guest);
            journal.appendText(RecordType.ABORTED, 78, 5, 2, 0, 0, 0, AbortReason.TRANSFER_NOT_SENT.code(), "new");
            final List<String> seen = new ArrayList<>();
            journal.replay((index, record) ->
            {
                assertEquals(6, record.host());
                assertEquals(5, record.vmId());
                seen.add(record.type() == RecordType.ADMITTED ?
                    "ADMITTED " + record.code() + " " + record.guestKind() + " " + Arrays.toString(record.guestState()) :
                    record.type() + " " + record.migrationId() + " " + record.abortReason() + " " + record.text());
            });
            assertEquals(List.of("ABORTED 77 UNKNOWN the target did not activate it", "ADMITTED 0 test-kind [0, 0, 9]",
                "ABORTED 78 TRANSFER_NOT_SENT new"), seen);
        }
    }

    /** A record as this schema was written before the code: a 64-byte header, the payload right after it. */
    private static void writeOldLayout(final ChronicleJournal journal, final RecordType type, final long migrationId,
        final byte[] payload)
    {
        final int headerLength = 64;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[headerLength + payload.length]);
        b.putByte(JournalRecord.VERSION_OFFSET, (byte)1);
        b.putByte(JournalRecord.TYPE_OFFSET, (byte)type.code());
        b.putShort(JournalRecord.HEADER_LENGTH_OFFSET, (short)headerLength, JournalRecord.ORDER);
        b.putInt(JournalRecord.PAYLOAD_LENGTH_OFFSET, payload.length, JournalRecord.ORDER);
        b.putLong(JournalRecord.TIMESTAMP_OFFSET, System.currentTimeMillis() * 1_000_000L, JournalRecord.ORDER);
        b.putInt(JournalRecord.HOST_OFFSET, 6, JournalRecord.ORDER);
        b.putLong(JournalRecord.MIGRATION_OFFSET, migrationId, JournalRecord.ORDER);
        b.putLong(JournalRecord.VM_OFFSET, 5, JournalRecord.ORDER);
        b.putInt(JournalRecord.PEER_OFFSET, 2, JournalRecord.ORDER);
        b.putBytes(headerLength, payload);
        final CRC32C crc = new CRC32C();
        crc.update(b.byteArray(), 0, JournalRecord.CRC_OFFSET);
        crc.update(b.byteArray(), JournalRecord.CRC_OFFSET + 4, b.capacity() - (JournalRecord.CRC_OFFSET + 4));
        b.putInt(JournalRecord.CRC_OFFSET, (int)crc.getValue(), JournalRecord.ORDER);
        try (ExcerptAppender appender = journal.queue().createAppender();
            DocumentContext context = appender.writingDocument())
        {
            context.wire().bytes().write(b.byteArray(), 0, b.capacity());
        }
    }

    @Test
    void aMissingDirectoryIsAClearError(@TempDir final Path dir)
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ChronicleJournal.openReadOnly(dir.resolve("nope"), 0));
        assertTrue(e.getMessage().startsWith("no journal at "), e.getMessage());
    }

    private static int indexOf(final byte[] haystack, final byte[] needle)
    {
        // ISO-8859-1 maps each byte to one char, so the String search finds byte offsets
        return new String(haystack, StandardCharsets.ISO_8859_1)
            .indexOf(new String(needle, StandardCharsets.ISO_8859_1));
    }
}
