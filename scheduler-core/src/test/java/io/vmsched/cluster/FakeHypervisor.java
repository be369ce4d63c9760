package io.vmsched.cluster;

import io.vmsched.vm.MigrationState;
import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmDriver;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The hypervisors of a test's hosts, in memory: VMs by process id, each with a run state; a migration completes
 * on the first poll after it starts (or {@link #migrationNs} after it, or fails, if the test says so), leaving the source POSTMIGRATE and the
 * incoming copy PAUSED, as QEMU with {@code -S} does. {@link #driver} gives each host its driver.
 */
final class FakeHypervisor
{
    final Map<Long, VmState.Kind> states = new ConcurrentHashMap<>();
    final Map<String, Long> incoming = new ConcurrentHashMap<>(); // uri -> the copy's pid
    final Map<Long, Long> migrations = new ConcurrentHashMap<>(); // source pid -> target pid
    final Map<Long, MigrationState> ended = new ConcurrentHashMap<>();
    private final AtomicLong pids = new AtomicLong(1000);
    volatile boolean failMigrations;
    /** How long a migration lasts: it ends on the first poll this long after it started (0: the first poll). */
    volatile long migrationNs;
    private final Map<Long, Long> startedNs = new ConcurrentHashMap<>(); // source pid -> when its migration started

    /** @return a new running VM's pid. */
    long start()
    {
        final long pid = pids.incrementAndGet();
        states.put(pid, VmState.Kind.RUNNING);
        return pid;
    }

    /** @return how many VMs run. */
    long running()
    {
        return states.values().stream().filter(k -> k == VmState.Kind.RUNNING).count();
    }

    VmDriver driver(final int host)
    {
        return new VmDriver()
        {
            @Override
            public String kind()
            {
                return "fake";
            }

            @Override
            public VmHandle adopt(final String name, final Path control, final long pid) throws VmDriverException
            {
                if (!states.containsKey(pid) || states.get(pid) == VmState.Kind.GONE)
                {
                    throw new VmDriverException(name, "no VM runs as process " + pid);
                }
                return new VmHandle(name, pid, control, name.getBytes(StandardCharsets.UTF_8), null);
            }

            @Override
            public VmHandle prepareIncoming(final String name, final byte[] spec)
            {
                final long pid = pids.incrementAndGet();
                states.put(pid, VmState.Kind.INMIGRATE);
                final String uri = "fake:" + host + ":" + pid;
                incoming.put(uri, pid);
                return new VmHandle(name, pid, Path.of("/fake/" + host + "/" + name + ".qmp"), spec, uri);
            }

            @Override
            public void migrate(final VmHandle source, final String uri) throws VmDriverException
            {
                final Long target = incoming.get(uri);
                if (target == null)
                {
                    throw new VmDriverException(source.name(), "nothing listens at " + uri);
                }
                startedNs.put(source.pid(), System.nanoTime());
                migrations.put(source.pid(), target);
            }

            @Override
            public MigrationStatus migration(final VmHandle vm)
            {
                final Long started = startedNs.get(vm.pid());
                if (started != null && System.nanoTime() - started < migrationNs && migrations.containsKey(vm.pid()))
                {
                    return new MigrationStatus(MigrationState.ACTIVE, "active", 1, -1, 1, "");
                }
                final Long target = migrations.remove(vm.pid());
                if (target != null)
                {
                    if (failMigrations || states.get(target) != VmState.Kind.INMIGRATE)
                    {
                        states.put(target, VmState.Kind.GONE); // QEMU's incoming side exits on a failed migration
                        ended.put(vm.pid(), MigrationState.FAILED);
                    }
                    else
                    {
                        states.put(vm.pid(), VmState.Kind.POSTMIGRATE);
                        states.put(target, VmState.Kind.PAUSED);
                        ended.put(vm.pid(), MigrationState.COMPLETED);
                    }
                }
                final MigrationState state = ended.getOrDefault(vm.pid(), MigrationState.NONE);
                return state == MigrationState.NONE ? MigrationStatus.NONE :
                    new MigrationStatus(state, state.name().toLowerCase(), 1, 1, 1, "");
            }

            @Override
            public VmState state(final VmHandle vm)
            {
                final VmState.Kind kind = states.getOrDefault(vm.pid(), VmState.Kind.GONE);
                return kind == VmState.Kind.GONE ? VmState.gone("no process") :
                    new VmState(kind, kind.name().toLowerCase());
            }

            @Override
            public void cancelMigration(final VmHandle vm)
            {
                migrations.remove(vm.pid());
            }

            @Override
            public void resume(final VmHandle vm)
            {
                states.computeIfPresent(vm.pid(), (pid, kind) -> kind == VmState.Kind.GONE ? kind : VmState.Kind.RUNNING);
            }

            @Override
            public void stop(final VmHandle vm)
            {
                states.computeIfPresent(vm.pid(), (pid, kind) -> VmState.Kind.PAUSED);
            }

            @Override
            public void remove(final VmHandle vm)
            {
                states.put(vm.pid(), VmState.Kind.GONE);
            }

            @Override
            public void close()
            {
            }
        };
    }
}
