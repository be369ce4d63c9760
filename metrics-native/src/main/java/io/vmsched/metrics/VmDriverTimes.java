package io.vmsched.metrics;

import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmDriver;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each VM's latest live-migration calls ran, across the drivers of every host: {@link #wrap} a host's
 * {@link VmDriver} and every {@code prepareIncoming} (on the target), {@code migrate} (on the source) and {@code
 * remove} (or {@code retire}) is timed, and when the source's {@code migration} (or {@code awaitMigration}) first says the migration
 * ended and the target's {@code state} (or {@code awaitStateChange}) first says its copy holds the VM (paused or
 * running), by the VM's name, which its copies keep. With a
 * {@link io.vmsched.cluster.ClusterListener#onMigrated}'s duration this splits vmsched's part of a live migration:
 * the target's copy starting, and the rest.
 * <p>
 * Threadsafe: the drivers record on their threads, a listener reads on an agent's.
 */
public final class VmDriverTimes
{
    /**
     * One VM's latest calls, {@link System#nanoTime()}s; 0 where none was made.
     *
     * @param prepareStartNs the target's {@code prepareIncoming} was called.
     * @param prepareEndNs   it returned (the copy listens), or failed.
     * @param migrateStartNs the source's {@code migrate} was called.
     * @param completedNs    the source's {@code migration} first said the migration ended (after migrateStartNs).
     * @param runningNs      the target's {@code state} first said its copy holds the VM, paused (copies start with
     *                       {@code -S} and are let run after the commit point) or running (after prepareEndNs).
     * @param removedNs      a {@code remove} or {@code retire} of a copy of it returned (the source's, after a commit:
     *                       its QEMU accepted to quit; once it exited the driver takes the name again).
     */
    public record Times(long prepareStartNs, long prepareEndNs, long migrateStartNs, long completedNs,
        long runningNs, long removedNs)
    {
        /** @return how long the target's copy took to start, ns; -1 if it was not timed. */
        public long prepareNs()
        {
            return prepareStartNs == 0 || prepareEndNs == 0 ? -1 : prepareEndNs - prepareStartNs;
        }
    }

    private static final Times NONE = new Times(0, 0, 0, 0, 0, 0);

    private final Map<String, Times> times = new ConcurrentHashMap<>();
    private final Map<String, Long> removeStarts = new ConcurrentHashMap<>();

    /**
     * @param driver a host's driver.
     * @return the same driver, its calls timed here; closing it closes the driver.
     */
    public VmDriver wrap(final VmDriver driver)
    {
        return new Timed(Objects.requireNonNull(driver, "driver"));
    }

    /**
     * @param name a VM's name.
     * @return the times of its latest calls (zeros if none).
     */
    public Times last(final String name)
    {
        return times.getOrDefault(name, NONE);
    }

    /**
     * @param name a VM's name.
     * @return when the latest {@code remove} or {@code retire} of a copy of it was called, {@link System#nanoTime()};
     *         0 if none was.
     */
    public long lastRemoveStartNs(final String name)
    {
        return removeStarts.getOrDefault(name, 0L);
    }

    private final class Timed implements VmDriver
    {
        private final VmDriver driver;

        Timed(final VmDriver driver)
        {
            this.driver = driver;
        }

        @Override
        public String kind()
        {
            return driver.kind();
        }

        @Override
        public VmHandle adopt(final String name, final Path control, final long pid) throws VmDriverException
        {
            return driver.adopt(name, control, pid);
        }

        @Override
        public VmHandle prepareIncoming(final String name, final byte[] spec) throws VmDriverException
        {
            final long start = System.nanoTime();
            try
            {
                return driver.prepareIncoming(name, spec);
            }
            finally
            {
                final long end = System.nanoTime();
                times.compute(name, (k, t) -> new Times(start, end, 0, 0, 0, null == t ? 0 : t.removedNs()));
            }
        }

        @Override
        public void migrate(final VmHandle source, final String uri) throws VmDriverException
        {
            final long start = System.nanoTime();
            times.compute(source.name(), (k, t) -> null == t ? new Times(0, 0, start, 0, 0, 0) :
                new Times(t.prepareStartNs(), t.prepareEndNs(), start, 0, t.runningNs(), t.removedNs()));
            driver.migrate(source, uri);
        }

        @Override
        public MigrationStatus migration(final VmHandle vm) throws VmDriverException
        {
            return ended(vm, driver.migration(vm));
        }

        @Override
        public MigrationStatus awaitMigration(final VmHandle vm, final long timeoutNs) throws VmDriverException
        {
            return ended(vm, driver.awaitMigration(vm, timeoutNs)); // the driver's own wait (its events), not polls
        }

        @Override
        public VmState awaitStateChange(final VmHandle vm, final VmState.Kind leaving, final long timeoutNs)
            throws VmDriverException
        {
            return heldBy(vm, driver.awaitStateChange(vm, leaving, timeoutNs));
        }

        /** A migration the source's driver says ended: the first time is recorded. */
        private MigrationStatus ended(final VmHandle vm, final MigrationStatus status)
        {
            if (status.state().isFinal())
            {
                final long now = System.nanoTime();
                times.computeIfPresent(vm.name(), (k, t) -> t.migrateStartNs() == 0 || t.completedNs() != 0 ? t :
                    new Times(t.prepareStartNs(), t.prepareEndNs(), t.migrateStartNs(), now, t.runningNs(), t.removedNs()));
            }
            return status;
        }

        @Override
        public VmState state(final VmHandle vm) throws VmDriverException
        {
            return heldBy(vm, driver.state(vm));
        }

        /** A copy paused or running after its preparation holds the VM: the first time is recorded. */
        private VmState heldBy(final VmHandle vm, final VmState state)
        {
            if (state.kind() == VmState.Kind.RUNNING || state.kind() == VmState.Kind.PAUSED)
            {
                final long now = System.nanoTime();
                times.computeIfPresent(vm.name(), (k, t) -> t.prepareEndNs() == 0 || t.runningNs() != 0 ? t :
                    new Times(t.prepareStartNs(), t.prepareEndNs(), t.migrateStartNs(), t.completedNs(), now,
                    t.removedNs()));
            }
            return state;
        }

        @Override
        public void cancelMigration(final VmHandle vm) throws VmDriverException
        {
            driver.cancelMigration(vm);
        }

        @Override
        public void resume(final VmHandle vm) throws VmDriverException
        {
            driver.resume(vm);
        }

        @Override
        public void stop(final VmHandle vm) throws VmDriverException
        {
            driver.stop(vm);
        }

        @Override
        public void remove(final VmHandle vm) throws VmDriverException
        {
            removeStarts.put(vm.name(), System.nanoTime());
            driver.remove(vm);
            removed(vm);
        }

        @Override
        public void retire(final VmHandle vm) throws VmDriverException
        {
            removeStarts.put(vm.name(), System.nanoTime());
            driver.retire(vm);
            removed(vm);
        }

        private void removed(final VmHandle vm)
        {
            final long end = System.nanoTime();
            times.compute(vm.name(), (k, t) -> null == t ? new Times(0, 0, 0, 0, 0, end) :
                new Times(t.prepareStartNs(), t.prepareEndNs(), t.migrateStartNs(), t.completedNs(), t.runningNs(), end));
        }

        @Override
        public void close()
        {
            driver.close();
        }
    }
}
