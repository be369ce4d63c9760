package io.vmsched.qemu;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.vm.MigrationState;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A cluster that crashed in the middle of a QEMU VM's live migration comes back with exactly one copy running
 * (skipped, with the reason, where {@code qemu-system-x86_64} is missing). Each case leaves real QEMU processes as
 * the crash would (the source's and the target's incoming copy, the migration completed or still running) and the
 * hosts' journals as they were written up to that point; the restarted cluster resolves the migration by its
 * journals (ACTIVATED at the target or not) and makes the hypervisors agree: the copy that must not run is quit
 * on every host before the kept one is made to run.
 */
@Timeout(180)
class QemuRecoveryTest
{
    private static final long VM = 5;
    private static final long MIGRATION = JournalRecord.migrationId(0, 1);
    private static final String KIND = "vm:" + QemuVmDriver.KIND;

    @TempDir
    Path dir;

    private final List<ProcessHandle> processes = new ArrayList<>();
    private final List<QemuVm> started = new ArrayList<>();
    private final QemuVmDriver[] drivers = new QemuVmDriver[2];
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopEverything()
    {
        started.forEach(QemuVm::kill);
        for (final ProcessHandle p : processes)
        {
            p.destroyForcibly();
            try
            {
                p.onExit().get(10, TimeUnit.SECONDS);
            }
            catch (final Exception ex)
            {
                // reported by the test itself
            }
        }
    }

    /** The QEMU processes a crash leaves: the source's VM, the target's incoming copy, and how far the migration got. */
    private record Crash(QemuVm source, VmHandle adopted, VmHandle copy)
    {
    }

    private Crash crash(final String binary, final boolean complete) throws Exception
    {
        // complete: 64 MiB moved at once; not: 256 MiB of zero pages at 32 KiB/s, still running for half a minute
        final QemuVm source = complete ? QemuVm.start(binary, dir, "vm", false) :
            QemuVm.start(binary, dir, "vm", 256, List.of());
        started.add(source);
        try (QemuVmDriver before0 = new QemuVmDriver(dir.resolve("run0"));
             QemuVmDriver before1 = new QemuVmDriver(dir.resolve("run1")))
        {
            final VmHandle adopted = before0.adopt("vm", source.socket, source.process.pid());
            final VmHandle copy = before1.prepareIncoming("vm", adopted.spec());
            ProcessHandle.of(copy.pid()).ifPresent(processes::add);
            if (!complete)
            {
                before0.execute(adopted, "migrate-set-parameters", Map.of("max-bandwidth", 32 << 10));
            }
            before0.migrate(adopted, copy.incomingUri());
            until(complete ? "the migration completes" : "the migration is under way", () ->
            {
                try
                {
                    final MigrationState state = before0.migration(adopted).state();
                    return complete ? state == MigrationState.COMPLETED && before1.state(copy).kind() == VmState.Kind.PAUSED :
                        state == MigrationState.ACTIVE;
                }
                catch (final VmDriverException ex)
                {
                    return false;
                }
            });
            return new Crash(source, adopted, copy); // the drivers let go: the VMs run on, as after a crash
        }
    }

    /** The journals as the crash left them: the source suspended the VM and sent it; the target received it. */
    private static void journals(final ClusterConfig config, final Crash crash, final boolean activated)
    {
        final byte[] kind = KIND.getBytes(StandardCharsets.UTF_8);
        try (ChronicleJournal source = ChronicleJournal.open(config.journalDir(0), 0))
        {
            source.appendGuest(RecordType.ADMITTED, 0, VM, -1, 1, kind, crash.adopted().encode());
            source.append(RecordType.MIGRATION_INTENT, MIGRATION, VM, 1, 0, 0.5, 0.1);
            source.appendGuest(RecordType.SUSPENDED, MIGRATION, VM, 1, 1, kind, crash.adopted().encode());
        }
        try (ChronicleJournal target = ChronicleJournal.open(config.journalDir(1), 1))
        {
            target.appendGuest(RecordType.RECEIVED, MIGRATION, VM, 0, 1, kind, crash.copy().encode());
            if (activated)
            {
                target.append(RecordType.ACTIVATED, MIGRATION, VM, 0, 0, 0, 0);
            }
        }
    }

    private ClusterConfig config()
    {
        final ClusterConfig config = ClusterConfig.of(2, dir.resolve("data"));
        config.host.balancing = false;
        config.host.vmDriver = h ->
        {
            drivers[h] = new QemuVmDriver(dir.resolve("run" + h));
            return drivers[h];
        };
        config.listener = new ClusterListener()
        {
            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.add(error);
            }
        };
        return config;
    }

    private static void until(final String what, final BooleanSupplier condition)
    {
        QemuVm.until(what, condition);
    }

    private static boolean alive(final long pid)
    {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static List<RecordType> tail(final Path journalDir, final int host)
    {
        final List<RecordType> types = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(journalDir, host))
        {
            journal.replay((index, record) ->
            {
                if (record.vmId() == VM)
                {
                    types.add(record.type());
                }
            });
        }
        return types;
    }

    private String qemu()
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        return binary;
    }

    @Test
    void committedWhileTheSourcesCopyWasStillThereItIsQuitAndTheTargetsRuns() throws Exception
    {
        // the commit journals COMMITTED once quit is sent; a QEMU drops a queued command when the connection dies
        // with its host, so the source's paused copy may outlive a crash just after COMMITTED
        final Crash crash = crash(qemu(), true);
        final ClusterConfig config = config();
        journals(config, crash, true);
        try (ChronicleJournal source = ChronicleJournal.open(config.journalDir(0), 0))
        {
            source.append(RecordType.COMMITTED, MIGRATION, VM, 1, 0, 0, 0);
        }
        assertTrue(alive(crash.source().process.pid()), "the source's paused copy outlived the crash");
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(Map.of(VM, 1), cluster.placement());
            assertFalse(alive(crash.source().process.pid()), "recovery quit the source's copy");
            until("the target's copy runs", () -> kindOr(1, crash.copy()) == VmState.Kind.RUNNING);
            assertTrue(errors.isEmpty(), errors::toString);
        }
        assertEquals(List.of(RecordType.ADMITTED, RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.COMMITTED),
            tail(config.journalDir(0), 0));
    }

    private VmState.Kind kindOr(final int host, final VmHandle vm)
    {
        try
        {
            return drivers[host].state(vm).kind();
        }
        catch (final VmDriverException ex)
        {
            return null;
        }
    }

    @Test
    void completedButNotActivatedTheTargetsPausedCopyIsQuitAndTheSourceRunsAgain() throws Exception
    {
        final Crash crash = crash(qemu(), true);
        final ClusterConfig config = config();
        journals(config, crash, false);
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(Map.of(VM, 0), cluster.placement());
            assertFalse(alive(crash.copy().pid()), "the target's copy, holding the VM at the crash, is quit");
            assertEquals(VmState.Kind.RUNNING, drivers[0].state(crash.adopted()).kind(), "the source's runs again");
            assertTrue(errors.isEmpty(), errors::toString);
        }
        assertTrue(alive(crash.source().process.pid()), "the VM runs on after the cluster stopped");
        assertEquals(List.of(RecordType.ADMITTED, RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.RESOLVED,
            RecordType.ABORTED), tail(config.journalDir(0), 0));
        assertEquals(List.of(RecordType.RECEIVED, RecordType.RESOLVED, RecordType.ABORTED), tail(config.journalDir(1), 1));
    }

    @Test
    void activatedTheSourcesPausedCopyIsQuitAndTheTargetsIsLetRun() throws Exception
    {
        final Crash crash = crash(qemu(), true);
        final ClusterConfig config = config();
        journals(config, crash, true);
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(Map.of(VM, 1), cluster.placement());
            assertFalse(alive(crash.source().process.pid()), "the source's paused copy is quit");
            assertEquals(VmState.Kind.RUNNING, drivers[1].state(crash.copy()).kind());
            assertTrue(errors.isEmpty(), errors::toString);
        }
        assertTrue(alive(crash.copy().pid()), "the VM runs on after the cluster stopped");
        assertEquals(RecordType.COMMITTED, tail(config.journalDir(0), 0).get(4));
    }

    @Test
    void stillMigratingTheMigrationIsStoppedAndTheSourceRunsOn() throws Exception
    {
        final Crash crash = crash(qemu(), false);
        final ClusterConfig config = config();
        journals(config, crash, false);
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(Map.of(VM, 0), cluster.placement());
            assertFalse(alive(crash.copy().pid()), "the target's incoming copy is quit");
            final MigrationState migration = drivers[0].migration(crash.adopted()).state();
            assertTrue(migration == MigrationState.FAILED || migration == MigrationState.CANCELLED, migration::toString);
            assertEquals(VmState.Kind.RUNNING, drivers[0].state(crash.adopted()).kind());
            assertTrue(errors.isEmpty(), errors::toString);
        }
    }
}
