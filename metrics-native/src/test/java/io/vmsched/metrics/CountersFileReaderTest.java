package io.vmsched.metrics;

import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A counters file that is not whole or not a file: each gets one line saying which and how, and a
 * whole one still reads.
 */
class CountersFileReaderTest
{
    private static final int COUNTERS = 8;

    /** Writes a closed counters file with two counters and returns its path. */
    private static Path writeFile(final Path dir)
    {
        try (CountersFile file = CountersFile.create(dir, COUNTERS, 1000))
        {
            file.set(file.allocate("cpu", CountersFile.TYPE_PPM, -1), 250_000);
            file.set(file.allocate("load", CountersFile.TYPE_MILLI, 0), 1_500);
            return file.path();
        }
    }

    private static String refusal(final Path dir)
    {
        return assertThrows(IllegalArgumentException.class, () -> CountersFileReader.open(dir).close()).getMessage();
    }

    private static void putInt(final Path file, final long offset, final int value) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value), offset);
        }
    }

    @Test
    void aWholeFileReads(@TempDir final Path dir)
    {
        writeFile(dir);
        final List<String> seen = new ArrayList<>();
        try (CountersFileReader reader = CountersFileReader.open(dir))
        {
            reader.forEach((host, type, label, value) -> seen.add(host + " " + label + " " + value));
        }
        assertEquals(List.of("-1 cpu 250000", "0 load 1500"), seen);
    }

    @Test
    void aTruncatedFileIsCalledTruncatedWithBothLengths(@TempDir final Path dir) throws IOException
    {
        final Path file = writeFile(dir);
        final long whole = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.truncate(1000);
        }
        assertEquals(file + " is truncated: expected " + whole + " bytes, has 1000", refusal(dir));

        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.truncate(20); // inside the header: the magic is still ours
        }
        assertEquals(file + " is truncated: expected at least the 64-byte header, has 20 bytes", refusal(dir));
    }

    @Test
    void aDirectoryOrAnEmptyFileInItsPlaceIsNamed(@TempDir final Path dir) throws IOException
    {
        Files.createDirectories(dir.resolve(CountersFile.FILE_NAME));
        assertEquals(dir.resolve(CountersFile.FILE_NAME) + " is a directory, not a counters file", refusal(dir));

        Files.delete(dir.resolve(CountersFile.FILE_NAME));
        Files.createFile(dir.resolve(CountersFile.FILE_NAME));
        assertTrue(refusal(dir).startsWith(dir.resolve(CountersFile.FILE_NAME) + " is empty (0 bytes)"), refusal(dir));
    }

    @Test
    void aWriterRefusesADirectoryInItsPlaceInOneLine(@TempDir final Path dir) throws IOException
    {
        Files.createDirectories(dir.resolve(CountersFile.FILE_NAME).resolve("something"));
        assertEquals("cannot create " + dir.resolve(CountersFile.FILE_NAME) + ": a directory that is not empty is in its " +
            "place", assertThrows(IllegalArgumentException.class, () -> CountersFile.create(dir, COUNTERS, 1000))
            .getMessage());
    }

    @Test
    void aDamagedHeaderOrLabelIsNamedNotThrownFromAgrona(@TempDir final Path dir) throws IOException
    {
        final Path file = writeFile(dir);
        putInt(file, CountersFile.METADATA_LENGTH_OFFSET, -1);
        assertTrue(refusal(dir).startsWith(file + " is damaged: its header gives -1 bytes of counter metadata"), refusal(dir));

        writeFile(dir);
        putInt(file, CountersFile.HEADER_LENGTH + CountersReader.metaDataOffset(1) + CountersReader.LABEL_OFFSET, 100_000);
        try (CountersFileReader reader = CountersFileReader.open(dir))
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> reader.forEach((host, type, label, value) -> { }));
            assertEquals(file + " is damaged: counter 1 has a label of 100000 bytes (at most 380)", ex.getMessage());
        }
    }
}
