package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A soak: 100,000 migrations (vmsched.soak.migrations for more or fewer) among 4 hosts in one run.
 * Heap after GC, direct memory and open file descriptors are measured once the run is warm (at a
 * tenth of the migrations) and at the end; growth must stay within the stated bounds. The resident pages
 * of the journals' mappings must stay within three journal blocks (48 MiB) per host whatever the
 * journal's length. The journals grow on disk by design (their files'
 * length grows about 0.5-0.8 KB a migration); in memory they take Chronicle's mapped window.
 */
class SoakTest
{
    static final long HEAP_GROWTH_BOUND = 32L << 20;
    static final long DIRECT_GROWTH_BOUND = 8L << 20;
    static final long FD_GROWTH_BOUND = 16;
    /** Chronicle maps a journal through a window of two blocks and their overlap, however long it grows. */
    static final long MAPPED_BOUND_PER_HOST = 3 * io.vmsched.journal.ChronicleJournal.BLOCK_SIZE;

    @AfterEach
    void resetGuests()
    {
        TrackingGuest.reset();
    }

    @Test
    void aHundredThousandMigrationsLeakNothing(@TempDir final Path dir) throws IOException
    {
        final long target = Long.getLong("vmsched.soak.migrations", 100_000);
        final int hosts = 4;
        final int vms = 64;
        final int inFlight = 16;
        final Set<Long> busy = ConcurrentHashMap.newKeySet();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong done = new AtomicLong();
        final ClusterConfig config = ClusterTest.config(hosts, dir);
        config.listener = new ClusterListener()
        {
            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                done.incrementAndGet();
                busy.remove(vmId);
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final String reason)
            {
                busy.remove(vmId);
            }

            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.incrementAndGet();
            }
        };
        final SplittableRandom random = new SplittableRandom(7);
        long[] warm = null;
        final long start = System.nanoTime();
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < vms; vm++)
            {
                cluster.admit((int)(vm % hosts), vm, 1, new TrackingGuest(vm));
            }
            Await.until("admissions", 10, () -> cluster.placement().size() == vms);
            while (done.get() < target)
            {
                if (warm == null && done.get() >= target / 10)
                {
                    warm = footprint();
                }
                if (busy.size() >= inFlight)
                {
                    LockSupport.parkNanos(20_000);
                    continue;
                }
                final long vm = random.nextInt(vms);
                if (!busy.add(vm))
                {
                    continue;
                }
                final int owner = cluster.placement().get(vm);
                cluster.migrate(vm, (owner + 1 + random.nextInt(hosts - 1)) % hosts);
                assertTrue(System.nanoTime() - start < 600_000_000_000L, "soak over 10 minutes: " + done.get());
            }
            Await.until("the last migrations", 30, () -> cluster.migrationsInFlight() == 0 && busy.isEmpty());
            final long[] end = footprint();
            final double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("soak: %,d migrations committed, %d aborted, in %.1f s (%,.0f/s); heap after GC %d -> %d " +
                "KiB, direct %d -> %d KiB, open fds %d -> %d, journals mapped and resident %d -> %d MiB, journal files %,d KiB%n", cluster.migrationsCommitted(),
                cluster.migrationsAborted(), seconds, cluster.migrationsCommitted() / seconds, warm[0] >> 10,
                end[0] >> 10, warm[1] >> 10, end[1] >> 10, warm[2], end[2], warm[3] >> 20, end[3] >> 20, diskUsage(dir) >> 10);
            assertEquals(0, errors.get(), "no errors");
            assertEquals(0, cluster.migrationsAborted(), "no aborts without faults");
            assertEquals(vms, cluster.placement().size());
            assertTrue(end[0] - warm[0] < HEAP_GROWTH_BOUND, "heap grew " + (end[0] - warm[0]) + " bytes");
            assertTrue(end[1] - warm[1] < DIRECT_GROWTH_BOUND, "direct memory grew " + (end[1] - warm[1]) + " bytes");
            assertTrue(end[2] - warm[2] < FD_GROWTH_BOUND, "open files grew from " + warm[2] + " to " + end[2]);
            assertTrue(end[3] <= hosts * MAPPED_BOUND_PER_HOST, "journals' resident mappings " + (end[3] >> 20) +
                " MiB, over " + hosts + " x " + (MAPPED_BOUND_PER_HOST >> 20) + " MiB");
        }
        assertEquals(0, TrackingGuest.OVERLAPS.get(), "no VM ran in two places");
    }

    /** @return heap used after GC, direct buffer memory, open file descriptors. */
    static long[] footprint() throws IOException
    {
        long heap = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        long direct = 0;
        for (final BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class))
        {
            if (pool.getName().equals("direct"))
            {
                direct = pool.getMemoryUsed();
            }
        }
        long fds;
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd")))
        {
            fds = entries.count();
        }
        // the journals' mapped windows: resident pages of mappings of Chronicle's .cq4 files
        long mapped = 0;
        boolean journalMapping = false;
        for (final String line : Files.readAllLines(Path.of("/proc/self/smaps")))
        {
            if (Character.isDigit(line.charAt(0)) || line.charAt(0) >= 'a' && line.charAt(0) <= 'f' && line.contains("-"))
            {
                journalMapping = line.endsWith(".cq4");
            }
            else if (journalMapping && line.startsWith("Rss:"))
            {
                mapped += Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
            }
        }
        return new long[] { heap, direct, fds, mapped };
    }

    static long diskUsage(final Path dir) throws IOException
    {
        try (Stream<Path> paths = Files.walk(dir))
        {
            return paths.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
