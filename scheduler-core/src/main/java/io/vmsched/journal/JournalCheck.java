package io.vmsched.journal;

import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Tells an intact journal directory (or one whose last record a crash tore, which is normal) from a
 * damaged one, <b>before</b> it is opened for writing: Chronicle, opening a damaged file for writing,
 * silently rebuilds it (a file cut short is extended with zeros and read as empty), so afterwards
 * nothing could tell. Checks, in order:
 * <ol>
 * <li>each {@code .cq4} file is a readable regular file at least as long as its header, whose header
 *     is a complete {@code SCQStore} with a {@code writePosition} (read with plain positional reads,
 *     never mapped, so a short file cannot fault);</li>
 * <li>the record the header names as the last complete one ({@code writePosition}) lies wholly
 *     inside the file: a file cut short of records it is known to hold is refused;</li>
 * <li>the queue's own metadata ({@code metadata.cq4t}) lists no cycle whose file is missing;</li>
 * <li>every record reads back (read-only tailer) with a valid CRC32C, and each file yields at least
 *     the records its header counts: damage before the last complete record is refused.</li>
 * </ol>
 * A record torn by a crash is never complete, so the header does not count it and the tailer does not
 * return it: it passes, and recovery goes on from the last complete record.
 * <p>
 * Threading: stateless; call from any thread, on a directory no one is writing.
 */
public final class JournalCheck
{
    /** Chronicle's metadata file in a queue directory. */
    public static final String METADATA_FILE = "metadata.cq4t";
    /** Suffix of a queue's cycle files. */
    public static final String SUFFIX = ".cq4";

    // The header document of a cycle file (Chronicle Queue's SCQStore in binary wire, as written by
    // 2026.4): a meta-data document, then the field "writePosition", alignment padding (0x8F, or 0x8E
    // and an int32 count of bytes), and an int64 array (0x8D, capacity and used counts) of 2 values:
    // [0] the position of the last complete record, [1] that position << 32 | its sequence number.
    private static final int HEADER_MIN_LENGTH = 200;
    private static final int META_DATA = 0x4000_0000;
    private static final int NOT_COMPLETE = 0x8000_0000;
    private static final int LENGTH_MASK = 0x3FFF_FFFF;
    private static final byte[] WRITE_POSITION = "writePosition".getBytes(StandardCharsets.US_ASCII);
    private static final int I64_ARRAY = 0x8D;
    private static final int PADDING = 0x8F;
    private static final int PADDING32 = 0x8E;
    private static final RollCycle ROLL_CYCLE = RollCycles.FAST_DAILY;
    private static final DateTimeFormatter CYCLE_FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);

    private JournalCheck()
    {
    }

    /** What one cycle file's header says. */
    private record FileHeader(Path file, int cycle, long writePosition, long lastSequence)
    {
    }

    /**
     * Verify a journal directory: its files, then every record.
     *
     * @param dir a host's journal directory (as {@link ChronicleJournal} writes it).
     * @return the number of records it holds (0 for a directory that does not exist or holds no journal yet).
     * @throws JournalCorruptException naming the file and what is wrong with it.
     */
    public static long verify(final Path dir)
    {
        return check(dir, (index, record) ->
        {
        });
    }

    /**
     * Verify a journal directory and hand every record to {@code handler} as it is checked, so a caller
     * that replays the journal (recovery) reads it once.
     *
     * @param dir     a host's journal directory.
     * @param handler receives each record in order (valid only during the call); if the check then
     *                fails, what it built must be thrown away.
     * @return the number of records it holds.
     * @throws JournalCorruptException naming the file and what is wrong with it.
     */
    public static long verify(final Path dir, final RecordHandler handler)
    {
        return check(dir, handler);
    }

    /**
     * Verify a journal directory's files only (checks 1-3, not the records): cheap, for tools that read
     * the records anyway and report a bad one by its index. Safe while a writer appends.
     *
     * @param dir a host's journal directory.
     * @return whether it holds a journal (false for a directory that does not exist or is empty).
     * @throws JournalCorruptException naming the file and what is wrong with it.
     */
    public static boolean verifyFiles(final Path dir)
    {
        return check(dir, null) > 0;
    }

    private static long check(final Path dir, final RecordHandler records)
    {
        if (!Files.exists(dir))
        {
            return 0;
        }
        if (!Files.isDirectory(dir))
        {
            throw JournalCorruptException.file(dir, "not a directory");
        }
        final List<FileHeader> headers = new ArrayList<>();
        final List<Path> files = cycleFiles(dir);
        for (final Path file : files)
        {
            headers.add(readHeader(file));
        }
        final Path metadata = dir.resolve(METADATA_FILE);
        if (files.isEmpty() && !Files.exists(metadata))
        {
            return 0; // an empty directory: no journal yet
        }
        if (Files.exists(metadata) && !Files.isRegularFile(metadata))
        {
            throw JournalCorruptException.file(metadata, "not a regular file");
        }
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir, -1))
        {
            checkListedCyclesExist(journal, dir);
            return records != null ? readAll(journal, headers, records) : Math.max(1, files.size());
        }
        catch (final JournalCorruptException ex)
        {
            throw ex;
        }
        catch (final RuntimeException | Error ex) // Chronicle's decoding errors, InternalError from a mapped read
        {
            throw JournalCorruptException.file(dir, "cannot be read (" + oneLine(ex) + ")");
        }
    }

    private static List<Path> cycleFiles(final Path dir)
    {
        try (java.util.stream.Stream<Path> entries = Files.list(dir))
        {
            return entries.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
        catch (final IOException ex)
        {
            throw JournalCorruptException.file(dir, "cannot list it: " + oneLine(ex));
        }
    }

    private static FileHeader readHeader(final Path file)
    {
        if (!Files.isRegularFile(file))
        {
            throw JournalCorruptException.file(file, "not a regular file");
        }
        final int cycle = cycleOf(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long length = channel.size();
            if (length < HEADER_MIN_LENGTH)
            {
                throw JournalCorruptException.file(file, "cut short of its own header: " + length + " bytes, at least " +
                    HEADER_MIN_LENGTH + " expected");
            }
            final ByteBuffer header = ByteBuffer.allocate(HEADER_MIN_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, header, 0);
            final int word = header.getInt(0);
            if ((word & (META_DATA | NOT_COMPLETE)) != META_DATA || (word & LENGTH_MASK) + 4 > length)
            {
                throw JournalCorruptException.file(file, String.format("its header is damaged (header word %08x)", word));
            }
            final int field = indexOf(header.array(), WRITE_POSITION, Math.min(HEADER_MIN_LENGTH, (word & LENGTH_MASK) + 4));
            int array = field + WRITE_POSITION.length;
            while (field >= 0 && array + 5 < HEADER_MIN_LENGTH) // alignment padding before the array
            {
                final int code = header.get(array) & 0xFF;
                if (code == PADDING)
                {
                    array++;
                }
                else if (code == PADDING32)
                {
                    array += 5 + header.getInt(array + 1);
                }
                else
                {
                    break;
                }
            }
            if (field < 0 || array + 1 + 16 + 16 > HEADER_MIN_LENGTH || (header.get(array) & 0xFF) != I64_ARRAY ||
                header.getLong(array + 1) != 2)
            {
                throw JournalCorruptException.file(file, "its header is damaged or of an unknown layout (no writePosition)");
            }
            final long writePosition = header.getLong(array + 17);
            final long pair = header.getLong(array + 25);
            final long pairPosition = pair >>> 32;
            if (writePosition == 0 && pair == 0)
            {
                return new FileHeader(file, cycle, 0, -1); // no record written yet
            }
            if (writePosition <= 0 || pairPosition <= 0)
            {
                throw JournalCorruptException.file(file, "its header is damaged (write position " + writePosition +
                    ", last record at " + pairPosition + ")");
            }
            // The two are stored one after the other: a crash between the stores leaves the pair one
            // record behind. Anything else is damage.
            final long first = Math.min(writePosition, pairPosition);
            final long last = Math.max(writePosition, pairPosition);
            final long firstEnd = completeRecordEnd(channel, file, first, length);
            if (first != last && firstEnd != last && ((firstEnd + 3) & ~3L) != last)
            {
                throw JournalCorruptException.file(file, "its header is damaged (write position " + writePosition +
                    " does not follow the last record at " + pairPosition + ")");
            }
            if (first != last)
            {
                completeRecordEnd(channel, file, last, length);
            }
            return new FileHeader(file, cycle, last, pair & 0xFFFF_FFFFL);
        }
        catch (final IOException ex)
        {
            throw JournalCorruptException.file(file, "cannot be read: " + oneLine(ex));
        }
    }

    /** @return the end of the complete record at {@code position}, which must lie inside the file. */
    private static long completeRecordEnd(final FileChannel channel, final Path file, final long position,
        final long length) throws IOException
    {
        if (position + 4 > length)
        {
            throw JournalCorruptException.file(file, "cut short: " + length + " bytes, but its header says records " +
                "reach at least byte " + (position + 4));
        }
        final ByteBuffer word = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, word, position);
        final int header = word.getInt(0);
        final long end = position + 4 + (header & LENGTH_MASK);
        if ((header & NOT_COMPLETE) != 0 || (header & LENGTH_MASK) == 0 || end > length)
        {
            throw JournalCorruptException.file(file, "cut short or damaged: its last complete record (at byte " +
                position + ") " + (end > length ? "ends at byte " + end + ", past the file's " + length +
                " bytes" : String.format("has a broken header word %08x", header)));
        }
        return end;
    }

    private static void checkListedCyclesExist(final ChronicleJournal journal, final Path dir)
    {
        final int first = journal.queue().firstCycle();
        final int last = journal.queue().lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE || first > last)
        {
            return; // the metadata lists no cycle
        }
        for (final int cycle : new int[]{ first, last })
        {
            final Path file = dir.resolve(fileName(cycle));
            if (!Files.exists(file))
            {
                throw JournalCorruptException.file(file, "missing (the queue's " + METADATA_FILE + " lists cycles " +
                    fileName(first) + " to " + fileName(last) + ")");
            }
        }
    }

    private static long readAll(final ChronicleJournal journal, final List<FileHeader> headers,
        final RecordHandler handler)
    {
        final TreeMap<Integer, Long> lastSequence = new TreeMap<>();
        long records = 0;
        try (ChronicleJournal.Cursor cursor = journal.cursor())
        {
            while (cursor.next())
            {
                final long index = cursor.index();
                lastSequence.put(ROLL_CYCLE.toCycle(index), ROLL_CYCLE.toSequenceNumber(index));
                handler.onRecord(index, cursor.record());
                records++;
            }
        }
        for (final FileHeader header : headers)
        {
            final long read = lastSequence.getOrDefault(header.cycle, -1L);
            if (read < header.lastSequence) // more is normal: a crash after a record, before the header's update
            {
                throw JournalCorruptException.file(header.file, "records are missing: its header counts " +
                    (header.lastSequence + 1) + ", only " + (read + 1) + " could be read (cut short or damaged)");
            }
        }
        return records;
    }

    /**
     * @param cycle a cycle of the journal's roll cycle.
     * @return the name of its file.
     */
    public static String fileName(final int cycle)
    {
        return CYCLE_FORMAT.format(Instant.ofEpochMilli(cycle * (long)ROLL_CYCLE.lengthInMillis())) + "F" + SUFFIX;
    }

    private static int cycleOf(final Path file)
    {
        final String name = file.getFileName().toString();
        try
        {
            final java.time.LocalDate day = java.time.LocalDate.parse(name.substring(0, name.length() - 5),
                DateTimeFormatter.ofPattern("yyyyMMdd"));
            if (!name.endsWith("F" + SUFFIX))
            {
                throw new java.time.format.DateTimeParseException("no F", name, 0);
            }
            return (int)(day.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli() / ROLL_CYCLE.lengthInMillis());
        }
        catch (final RuntimeException ex)
        {
            throw JournalCorruptException.file(file, "not a journal file of this layout (expected a name like " +
                fileName(0) + ")");
        }
    }

    private static void readFully(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        long at = position;
        while (buffer.hasRemaining())
        {
            final int n = channel.read(buffer, at);
            if (n < 0)
            {
                throw new IOException("unexpected end of file at byte " + at);
            }
            at += n;
        }
    }

    private static int indexOf(final byte[] haystack, final byte[] needle, final int limit)
    {
        outer:
        for (int i = 0; i + needle.length <= limit; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String oneLine(final Throwable ex)
    {
        final String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        final String line = message.lines().findFirst().orElse("").replaceAll("[^\\x20-\\x7E]", "?");
        return line.length() > 160 ? line.substring(0, 160) + "…" : line;
    }
}
