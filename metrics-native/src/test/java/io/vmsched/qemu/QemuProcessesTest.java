package io.vmsched.qemu;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QemuProcesses} against real QEMU (skipped, with the reason, where {@code qemu-system-x86_64} is missing):
 * a tiny VM started, found behind its socket and under its directory, killed; a socket path too long refused.
 */
@Timeout(60)
class QemuProcessesTest
{
    @TempDir
    Path dir;

    @AfterEach
    void stopEverything()
    {
        QemuProcesses.killUnder(dir);
    }

    @Test
    void aTinyVmIsFoundBehindItsSocketAndUnderItsDirectoryThenKilled() throws Exception
    {
        final Path binary = QemuProcesses.binary();
        Assumptions.assumeTrue(binary != null, QemuProcesses.missing());
        final Path socket = dir.resolve("a.qmp");
        final Process vm = QemuProcesses.startTiny(binary, socket, dir.resolve("a.log"), 64, Duration.ofSeconds(30));
        assertTrue(vm.isAlive());
        assertEquals(vm.pid(), QemuProcesses.pidServing(socket));
        final IOException none = assertThrows(IOException.class, () -> QemuProcesses.pidServing(dir.resolve("a.log")));
        assertTrue(none.getMessage().startsWith("no QEMU process serves a monitor at " + dir.resolve("a.log")),
            none.getMessage());
        assertEquals(List.of(vm.pid()), QemuProcesses.under(dir).stream().map(ProcessHandle::pid).toList());
        assertEquals(List.of(), QemuProcesses.under(dir.resolve("elsewhere")));
        assertEquals(1, QemuProcesses.killUnder(dir));
        assertFalse(vm.isAlive());
        assertEquals(List.of(), QemuProcesses.under(dir));
        assertEquals(0, QemuProcesses.killUnder(dir));
    }

    @Test
    void aSocketPathOverTheLimitIsRefusedBeforeAnythingStarts() throws Exception
    {
        final Path binary = QemuProcesses.binary();
        Assumptions.assumeTrue(binary != null, QemuProcesses.missing());
        final Path deep = dir.resolve("d".repeat(100));
        Files.createDirectories(deep);
        final IOException ex = assertThrows(IOException.class, () ->
            QemuProcesses.startTiny(binary, deep.resolve("a.qmp"), deep.resolve("a.log"), 64, Duration.ofSeconds(30)));
        assertTrue(ex.getMessage().contains("is longer than 107 bytes"), ex.getMessage());
        assertEquals(List.of(), QemuProcesses.under(dir));
    }
}
