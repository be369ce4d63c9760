package io.vmsched.qemu;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QemuBalloonDriver} against a real QEMU with a {@code virtio-balloon-pci} device and no guest OS (skipped,
 * with the reason, where {@code qemu-system-x86_64} is missing): nothing in the guest answers the balloon, and
 * the driver must say so rather than report the target met. Every QEMU started is killed at the end.
 */
@Timeout(120)
class QemuBalloonDriverTest
{
    private static final long MIB = 1 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Duration POLL = Duration.ofMillis(20);

    /** A result and the thread it came on. */
    private record Answer(BalloonResult result, String thread)
    {
    }

    private static CompletableFuture<Answer> ask(final QemuBalloonDriver driver, final long bytes, final int processors,
        final Duration deadline)
    {
        final CompletableFuture<Answer> answer = new CompletableFuture<>();
        driver.request(new BalloonRequest(7, 42, bytes, processors, System.nanoTime() + deadline.toNanos()),
            r -> answer.complete(new Answer(r, Thread.currentThread().getName())));
        return answer;
    }

    private static BalloonResult await(final CompletableFuture<Answer> answer) throws Exception
    {
        final Answer a = answer.get(60, TimeUnit.SECONDS);
        assertTrue(a.thread().startsWith("qemu-balloon-"), "answered on the driver's thread, not " + a.thread());
        assertEquals(7, a.result().requestId());
        assertEquals(42, a.result().vmId());
        assertFalse(a.result().reason().contains("\n"), a.result().reason());
        return a.result();
    }

    private static String qemu()
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        return binary;
    }

    @Test
    void withoutAGuestOsTheBalloonDoesNotMoveAndTheDriverSaysSo(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true);
             QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofMillis(300)))
        {
            final CompletableFuture<Answer> answer = ask(driver, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(30));
            assertFalse(answer.isDone(), "request() returned before the answer (it takes the 300 ms settle time at least)");
            final BalloonResult result = await(answer);
            assertEquals(Outcome.REFUSED, result.outcome(), result.toString());
            assertFalse(result.moved());
            assertEquals(64 * MIB, result.memoryBytes());
            assertEquals(-1, result.processors());
            assertEquals("the guest gave 0 of 32 MiB in 300 ms: no guest balloon driver answering", result.reason());

            // the target already held is met without asking the guest
            final BalloonResult same = await(ask(driver, 64 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(30)));
            assertEquals(Outcome.MET, same.outcome(), same.toString());
            assertEquals("", same.reason());
        }
        // the deadline before the settle time: nothing moved by then (the processors are left aside); a driver of its
        // own, as QEMU serves one QMP client at a time
        try (QemuVm vm = QemuVm.start(binary, dir, "vm2", true);
             QemuBalloonDriver patient = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofSeconds(30)))
        {
            final BalloonResult late = await(ask(patient, 16 * MIB, 4, Duration.ofSeconds(1)));
            assertEquals(Outcome.TIMED_OUT, late.outcome(), late.toString());
            assertEquals(-1, late.processors());
            assertEquals("no change of the balloon before the deadline (asked 48 MiB)", late.reason());
        }
    }

    @Test
    void guestStatistics(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true);
             QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofMillis(300)))
        {
            assertNull(driver.pollGuestStats(Duration.ofSeconds(2)).get(30, TimeUnit.SECONDS));
            final QemuBalloonDriver.GuestStats stats = driver.guestStats().get(30, TimeUnit.SECONDS);
            // no guest: QEMU reports every statistic as all ones ("not reported") and never an update
            assertEquals(0, stats.lastUpdate());
            assertTrue(stats.stats().isEmpty(), stats.toString());
            final ExecutionException bad = assertThrows(ExecutionException.class,
                () -> driver.pollGuestStats(Duration.ofMillis(1500)).get(30, TimeUnit.SECONDS));
            assertTrue(bad.getCause().getMessage().contains("whole seconds"), bad.getCause().getMessage());
        }
    }

    @Test
    void badTargetsAreRefusedWithTheReason(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        final IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
            () -> new BalloonRequest(1, 1, -5, BalloonRequest.UNCHANGED, 0));
        assertEquals("a balloon's memory target must be at least 0 bytes, got -5", negative.getMessage());
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true);
             QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofMillis(300)))
        {
            final BalloonResult absurd = await(ask(driver, 1L << 40, BalloonRequest.UNCHANGED, Duration.ofSeconds(30)));
            assertEquals(Outcome.REFUSED, absurd.outcome(), absurd.toString());
            assertEquals("target 1048576 MiB is more than the VM's 64 MiB of memory", absurd.reason());
            final BalloonResult zero = await(ask(driver, 0, BalloonRequest.UNCHANGED, Duration.ofSeconds(30)));
            assertEquals(Outcome.REFUSED, zero.outcome(), zero.toString());
            assertEquals("a QEMU balloon cannot take all of a VM's memory (target 0 bytes)", zero.reason());
        }
    }

    @Test
    void processorsAloneAreRefusedWithoutAskingQemu(@TempDir final Path dir) throws Exception
    {
        try (QemuBalloonDriver driver = new QemuBalloonDriver(dir.resolve("none.sock")))
        {
            final BalloonResult result = await(ask(driver, BalloonRequest.UNCHANGED, 2, Duration.ofSeconds(30)));
            assertEquals(Outcome.REFUSED, result.outcome());
            assertEquals("a hypervisor's balloon has no processors", result.reason());
        }
    }

    @Test
    void aSocketThatIsNotThereFails(@TempDir final Path dir) throws Exception
    {
        final Path missing = dir.resolve("none.sock");
        try (QemuBalloonDriver driver = new QemuBalloonDriver(missing))
        {
            final BalloonResult result = await(ask(driver, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(30)));
            assertEquals(Outcome.FAILED, result.outcome());
            assertTrue(result.reason().startsWith("no QMP socket at " + missing), result.reason());
        }
    }

    @Test
    void aVmWithoutABalloonDevice(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", false);
             QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofMillis(300)))
        {
            final BalloonResult result = await(ask(driver, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(30)));
            assertEquals(Outcome.NO_BALLOON, result.outcome(), result.toString());
            assertEquals("QEMU has no balloon device: No balloon device has been activated", result.reason());
            final ExecutionException stats = assertThrows(ExecutionException.class,
                () -> driver.guestStats().get(30, TimeUnit.SECONDS));
            assertEquals(vm.socket + ": no virtio-balloon device under /machine/peripheral or /machine/peripheral-anon",
                stats.getCause().getMessage());
        }
    }

    @Test
    void qemuKilledMidRequestFailsAndTheDriverGoesOn(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true);
             QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofSeconds(60)))
        {
            driver.guestStats().get(30, TimeUnit.SECONDS); // connected
            // a settle time and deadline far away: only QEMU's death can end this request soon
            final long start = System.nanoTime();
            final CompletableFuture<Answer> answer = ask(driver, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(90));
            vm.kill();
            final BalloonResult result = await(answer);
            assertEquals(Outcome.FAILED, result.outcome(), result.toString());
            assertTrue(result.reason().contains(vm.socket.toString()), result.reason());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "failed when QEMU died, not at a deadline");

            // the next request reconnects, finds nothing listening, and fails too: the driver is still there
            final BalloonResult next = await(ask(driver, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(30)));
            assertEquals(Outcome.FAILED, next.outcome(), next.toString());
            assertTrue(next.reason().startsWith("cannot connect to QMP socket " + vm.socket), next.reason());

            // and a new QEMU at the same socket is served again
            try (QemuVm again = QemuVm.start(binary, dir, "vm2", true);
                 QemuBalloonDriver other = new QemuBalloonDriver(again.socket, TIMEOUT, POLL, Duration.ofMillis(200)))
            {
                assertEquals(Outcome.REFUSED, await(ask(other, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(30))).outcome());
            }
        }
    }

    @Test
    void closeAnswersTheRequestInProgress(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true))
        {
            final QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, Duration.ofSeconds(60));
            final BalloonResult result;
            try
            {
                driver.guestStats().get(30, TimeUnit.SECONDS); // connected
                final CompletableFuture<Answer> answer = ask(driver, 32 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(90));
                final CompletableFuture<Answer> queued = ask(driver, 16 * MIB, BalloonRequest.UNCHANGED, Duration.ofSeconds(90));
                driver.close();
                result = await(answer);
                assertEquals(Outcome.FAILED, await(queued).outcome());
            }
            finally
            {
                driver.close();
            }
            assertEquals(Outcome.FAILED, result.outcome(), result.toString());
            assertEquals("the driver closed", result.reason());
            // after close: answered at once, on the caller's thread
            final BalloonResult[] after = new BalloonResult[1];
            driver.request(new BalloonRequest(8, 42, 32 * MIB, BalloonRequest.UNCHANGED, System.nanoTime()), r -> after[0] = r);
            assertEquals(Outcome.FAILED, after[0].outcome());
            assertEquals("the driver is closed", after[0].reason());
        }
    }
}
