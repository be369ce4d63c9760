package io.vmsched.qemu;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.journal.AbortReason;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link QemuCrashTest}'s child JVM: an embedded 2-host cluster with a {@link QemuVmDriver} per host adopts a QEMU VM
 * on host 0 and live-migrates it back and forth until it is killed, printing "READY" once, then "settled N" after
 * each migration's outcome.
 */
public final class QemuCrashChild
{
    private QemuCrashChild()
    {
    }

    /**
     * @param args data directory, run directory base, the VM's QMP socket, its PID.
     */
    public static void main(final String[] args) throws Exception
    {
        final Path data = Path.of(args[0]);
        final Path runs = Path.of(args[1]);
        final AtomicLong settled = new AtomicLong();
        final ClusterConfig config = QemuCrashTest.config(data, runs, null);
        config.listener = new ClusterListener()
        {
            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                settled.incrementAndGet();
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final AbortReason code,
                final String reason)
            {
                settled.incrementAndGet();
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, QemuCrashTest.VM, "vm", Path.of(args[2]), Long.parseLong(args[3]));
            while (!cluster.placement().containsKey(QemuCrashTest.VM))
            {
                Thread.onSpinWait();
            }
            System.out.println("READY");
            long seen = 0;
            while (true)
            {
                final int at = cluster.placement().get(QemuCrashTest.VM);
                cluster.migrate(QemuCrashTest.VM, 1 - at);
                while (settled.get() == seen)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
                }
                seen = settled.get();
                System.out.println("settled " + seen);
            }
        }
    }
}
