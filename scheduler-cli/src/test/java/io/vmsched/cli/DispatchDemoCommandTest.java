package io.vmsched.cli;

import io.vmsched.schedule.ScheduleReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class DispatchDemoCommandTest extends CommandTest
{
    @Test
    void demoRunsOneHostAndReportsWhatTheDispatcherDid(@TempDir final Path dir) throws java.io.IOException
    {
        final int code = run("dispatch-demo", "--duration", "2", "--guests", "5", "--workers", "2", "--data", dir.toString());
        assertEquals(0, code, err.toString());
        final String text = out.toString();
        assertTrue(text.contains("t=1s"), text);
        assertTrue(text.contains("t=2s"), text);
        assertTrue(text.contains("suspend vm 104"), text);
        assertTrue(text.contains("What the dispatcher did"), text);
        assertTrue(text.contains("0 guest failures"), text);
        final Path schedule;
        try (java.util.stream.Stream<Path> runs = Files.list(dir))
        {
            final java.util.List<Path> found = runs.collect(java.util.stream.Collectors.toList());
            assertEquals(1, found.size(), found.toString());
            assertTrue(found.get(0).getFileName().toString().startsWith("dispatch-"), found.toString());
            schedule = found.get(0).resolve("schedule.dat");
        }
        assertTrue(text.contains("live schedule mapped at " + schedule.toAbsolutePath()), text);
        try (ScheduleReader reader = ScheduleReader.open(schedule))
        {
            assertEquals(5, reader.liveCount(), "the mapped schedule another process can read holds the guests");
        }
    }

    @Test
    void badFlagsGetOneLineWithoutATrace(@TempDir final Path dir)
    {
        assertEquals(2, run("dispatch-demo", "--guests", "1", "--data", dir.toString()));
        final String message = err.toString().trim();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.contains("--guests must be in [3, 1024], got 1"), message);

        err.getBuffer().setLength(0);
        assertEquals(2, run("dispatch-demo", "--duration", "soon"));
        assertTrue(err.toString().contains("--duration"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace for a user's mistake");
    }

    @Test
    void noCommandIsAUsageError()
    {
        assertEquals(2, run());
        assertTrue(err.toString().contains("a command is needed"), err.toString());
    }
}
