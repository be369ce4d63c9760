package io.vmsched.qemu;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.journal.BalloonRecord;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import io.vmsched.qemu.QemuBalloonDriver.GuestStats;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Linux guest's own balloon driver answers QEMU's balloon: Debian's kernel with its {@code virtio_balloon} module,
 * booted in QEMU ({@link GuestKernel}, {@link QemuVm#boot}; TCG is enough), asked through {@link QemuBalloonDriver}
 * and through a cluster, as an external VM. Skipped, with the reason, where {@code qemu-system-x86_64} or the guest
 * kernel ({@code .ci/guest-kernel}) is missing. Every QEMU started is killed at the end.
 * <p>
 * The times (boot, inflate, deflate) are printed: under TCG on a small shared machine the boot takes seconds to
 * tens of seconds, hence the deadlines.
 */
@Timeout(180)
class GuestOsBalloonTest
{
    private static final long MIB = 1 << 20;
    private static final int MEMORY_MIB = 256;
    private static final long MEMORY = MEMORY_MIB * MIB;
    private static final long TARGET = 128 * MIB;
    private static final Duration BOOT = Duration.ofSeconds(120);
    // QMP is served by QEMU's main loop, which TCG's vCPU thread competes with: generous, still bounded
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(20);
    // an emulated guest on a busy machine may pause between pages for longer than the default second
    private static final Duration SETTLE = Duration.ofSeconds(3);
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static String qemu()
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        return binary;
    }

    private static GuestKernel kernel() throws Exception
    {
        final Path dir = GuestKernel.dir();
        final String missing = GuestKernel.missing(dir);
        Assumptions.assumeTrue(null == missing, missing);
        return GuestKernel.at(dir);
    }

    private static QemuVm boot(final String binary, final Path dir, final String name, final GuestKernel kernel)
        throws Exception
    {
        final long start = System.nanoTime();
        final QemuVm vm = QemuVm.boot(binary, dir, name, kernel, MEMORY_MIB, BOOT);
        final String console = vm.console();
        final int ready = console.indexOf(GuestKernel.READY);
        System.out.printf(Locale.ROOT, "GuestOsBalloonTest: %s booted in %d ms: %s%n", name, millis(start),
            console.substring(ready, console.indexOf('\n', ready) < 0 ? console.length() : console.indexOf('\n', ready)));
        return vm;
    }

    private static long millis(final long startNs)
    {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
    }

    private static BalloonResult ask(final QemuBalloonDriver driver, final long bytes) throws Exception
    {
        final CompletableFuture<BalloonResult> answer = new CompletableFuture<>();
        driver.request(new BalloonRequest(7, 42, bytes, BalloonRequest.UNCHANGED, System.nanoTime() + DEADLINE.toNanos()),
            answer::complete);
        final BalloonResult result = answer.get(DEADLINE.toSeconds() + 30, TimeUnit.SECONDS);
        assertEquals(7, result.requestId());
        assertEquals(42, result.vmId());
        return result;
    }

    /** Read the guest's statistics until they satisfy {@code until} (QEMU collects them every second). */
    private static GuestStats awaitStats(final QemuBalloonDriver driver, final String what,
        final Predicate<GuestStats> until) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        GuestStats stats = driver.guestStats().get(30, TimeUnit.SECONDS);
        while (!until.test(stats))
        {
            assertTrue(System.nanoTime() - deadline < 0, "the guest's statistics never showed " + what + ": " + stats);
            TimeUnit.MILLISECONDS.sleep(100);
            stats = driver.guestStats().get(30, TimeUnit.SECONDS);
        }
        return stats;
    }

    private static long stat(final GuestStats stats, final String name)
    {
        return stats.stats().getOrDefault(name, -1L);
    }

    private static String mib(final long bytes)
    {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double)MIB);
    }

    @Test
    void theGuestsDriverGivesPagesAndTakesThemBack(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        final GuestKernel kernel = kernel();
        try (QemuVm vm = boot(binary, dir, "guest", kernel);
             QemuBalloonDriver driver = new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, SETTLE))
        {
            assertNull(driver.pollGuestStats(Duration.ofSeconds(1)).get(30, TimeUnit.SECONDS));
            final GuestStats before = awaitStats(driver, "a first report",
                s -> s.lastUpdate() > 0 && stat(s, "stat-total-memory") > 0 && stat(s, "stat-free-memory") > 0);
            final long total = stat(before, "stat-total-memory");
            final long free = stat(before, "stat-free-memory");
            // the guest's own count: its kernel keeps some of the 256 MiB for itself, and uses a little
            assertTrue(total > 128 * MIB && total <= MEMORY, before::toString);
            assertTrue(free > 64 * MIB && free < total, before::toString);

            // inflate: the guest's driver allocates pages and hands them to QEMU, which drops them
            long start = System.nanoTime();
            final BalloonResult inflated = ask(driver, TARGET);
            final long inflateMs = millis(start);
            System.out.printf(Locale.ROOT, "GuestOsBalloonTest: inflate %s -> %s: %s, actual %s, in %d ms%n",
                mib(MEMORY), mib(TARGET), inflated.outcome(), mib(inflated.memoryBytes()), inflateMs);
            assertTrue(inflated.moved(), inflated::toString);
            final long given = MEMORY - inflated.memoryBytes();
            if (inflated.outcome() == Outcome.SHORT)
            {
                assertTrue(given >= (MEMORY - TARGET) * 9 / 10, "the guest gave most of 128 MiB: " + inflated);
            }
            else
            {
                assertEquals(Outcome.MET, inflated.outcome(), inflated::toString);
                assertEquals(TARGET, inflated.memoryBytes(), inflated::toString);
                assertEquals("", inflated.reason());
            }
            // and the guest counts them gone: the balloon's pages leave its total (no deflate-on-OOM) and its free memory
            final GuestStats small = awaitStats(driver, "its total memory less " + mib(given),
                s -> total - stat(s, "stat-total-memory") >= given - MIB);
            assertEquals(given, total - stat(small, "stat-total-memory"), MIB, small::toString);
            assertTrue(free - stat(small, "stat-free-memory") >= given - 8 * MIB, "free memory fell by the balloon: " +
                mib(free) + " before, " + small);

            // deflate: the guest takes its pages back
            start = System.nanoTime();
            final BalloonResult deflated = ask(driver, MEMORY);
            final long deflateMs = millis(start);
            System.out.printf(Locale.ROOT, "GuestOsBalloonTest: deflate %s -> %s: %s, actual %s, in %d ms%n",
                mib(inflated.memoryBytes()), mib(MEMORY), deflated.outcome(), mib(deflated.memoryBytes()), deflateMs);
            assertEquals(Outcome.MET, deflated.outcome(), deflated::toString);
            assertEquals(MEMORY, deflated.memoryBytes(), deflated::toString);
            final GuestStats whole = awaitStats(driver, "its total memory back",
                s -> stat(s, "stat-total-memory") == total);
            assertTrue(stat(whole, "stat-free-memory") >= free - 8 * MIB, "free memory back: " + mib(free) +
                " before, " + whole);
            System.out.printf(Locale.ROOT, "GuestOsBalloonTest: the guest's total memory %s, %s, %s; free %s, %s, %s%n",
                mib(total), mib(stat(small, "stat-total-memory")), mib(stat(whole, "stat-total-memory")),
                mib(free), mib(stat(small, "stat-free-memory")), mib(stat(whole, "stat-free-memory")));
            assertTrue(vm.process.isAlive(), "the guest runs on");
            assertFalse(vm.console().contains("Out of memory"), vm.console());
        }
    }

    @Test
    void theClusterAsksTheGuestsDriverThroughQemu(@TempDir final Path dir) throws Exception
    {
        final String binary = qemu();
        final GuestKernel kernel = kernel();
        final ClusterConfig config = ClusterConfig.of(1, dir.resolve("data"));
        config.host.balancing = false;
        config.host.balloonTimeoutNs = DEADLINE.toNanos();
        try (QemuVm vm = boot(binary, dir, "guest", kernel))
        {
            config.host.externalBalloons = (vmId, name, pid) -> new QemuBalloonDriver(vm.socket, TIMEOUT, POLL, SETTLE);
            try (Cluster cluster = Cluster.start(config))
            {
                cluster.admitExternal(0, 9, "guest-vm", vm.process.pid());
                final long start = System.nanoTime();
                final BalloonResult inflated = cluster.balloon(9, TARGET, BalloonRequest.UNCHANGED)
                    .get(DEADLINE.toSeconds() + 30, TimeUnit.SECONDS);
                final long inflateMs = millis(start);
                assertEquals(Outcome.MET, inflated.outcome(), inflated::toString);
                assertEquals(TARGET, inflated.memoryBytes());
                final BalloonResult deflated = cluster.balloon(9, MEMORY, BalloonRequest.UNCHANGED)
                    .get(DEADLINE.toSeconds() + 30, TimeUnit.SECONDS);
                assertEquals(Outcome.MET, deflated.outcome(), deflated::toString);
                assertEquals(MEMORY, deflated.memoryBytes());
                System.out.printf(Locale.ROOT, "GuestOsBalloonTest: through the cluster: inflate %s in %d ms, deflate %s in %d ms%n",
                    inflated.outcome(), inflateMs, deflated.outcome(), millis(start) - inflateMs);
                assertTrue(vm.process.isAlive(), "the VM runs on");
            }
        }
        final List<String> records = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(config.journalDir(0), 0))
        {
            final BalloonRecord balloon = new BalloonRecord();
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.BALLOON_REQUESTED || record.type() == RecordType.BALLOON_RESULT)
                {
                    balloon.wrap(record);
                    records.add(record.type() + " " + balloon.memoryBytes() + " " + balloon.outcome());
                }
            });
        }
        assertEquals(List.of("BALLOON_REQUESTED 134217728 null", "BALLOON_RESULT 134217728 MET",
            "BALLOON_REQUESTED 268435456 null", "BALLOON_RESULT 268435456 MET"), records);
    }
}
