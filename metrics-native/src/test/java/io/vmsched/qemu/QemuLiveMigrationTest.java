package io.vmsched.qemu;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.journal.AbortReason;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalCheck;
import io.vmsched.journal.RecordType;
import io.vmsched.vm.MigrationState;
import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An embedded cluster moves real QEMU VMs (TCG, no guest OS) between its hosts by live migration, each host with a
 * {@link QemuVmDriver} of its own (skipped, with the reason, where {@code qemu-system-x86_64} is missing). At every
 * end exactly one QEMU process per VM runs; the journals verify. Every QEMU a test starts, or a driver starts for it,
 * is killed at the end (bounded waits).
 */
@Timeout(180)
class QemuLiveMigrationTest
{
    @TempDir
    Path dir;

    private final List<QemuVm> started = new ArrayList<>();
    private final QemuVmDriver[] drivers = new QemuVmDriver[2];
    private final List<MigrationStatus> live = new CopyOnWriteArrayList<>();
    private final List<Long> migrated = new CopyOnWriteArrayList<>();
    private final List<String> aborted = new CopyOnWriteArrayList<>();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopEverything() throws Exception
    {
        started.forEach(QemuVm::kill);
        // the copies the drivers started outlive them (they are VMs): found by their QMP sockets' processes
        for (int h = 0; h < drivers.length; h++)
        {
            final Path run = dir.resolve("run" + h);
            if (!Files.isDirectory(run))
            {
                continue;
            }
            try (var files = Files.list(run))
            {
                for (final Path socket : files.filter(f -> f.toString().endsWith(".qmp")).toList())
                {
                    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(socket.toString()))
                        .forEach(p ->
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
                        });
                }
            }
        }
    }

    private ClusterConfig config(final boolean balancing)
    {
        final ClusterConfig config = ClusterConfig.of(2, dir.resolve("data"));
        config.host.balancing = balancing;
        config.host.balancePeriodNs = 200_000_000L;
        config.host.samplePeriodNs = 50_000_000L;
        config.host.vmDriver = h ->
        {
            drivers[h] = new QemuVmDriver(dir.resolve("run" + h));
            return drivers[h];
        };
        config.listener = new ClusterListener()
        {
            @Override
            public void onLiveMigration(final long vmId, final int source, final int target, final MigrationStatus status)
            {
                live.add(status);
            }

            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                migrated.add(vmId);
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final AbortReason code,
                final String reason)
            {
                aborted.add(vmId + ": " + reason);
            }

            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.add(error);
            }
        };
        return config;
    }

    private String qemu()
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        return binary;
    }

    private QemuVm vm(final String binary, final String name) throws Exception
    {
        final QemuVm vm = QemuVm.start(binary, dir, name, false);
        started.add(vm);
        return vm;
    }

    /** @return the handle of the copy a host's journal last received for this VM (null if none). */
    private static VmHandle received(final Path journalDir, final int host, final long vmId)
    {
        final VmHandle[] last = new VmHandle[1];
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(journalDir, host))
        {
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.RECEIVED && record.vmId() == vmId)
                {
                    last[0] = VmHandle.decode(record.guestState());
                }
            });
        }
        return last[0];
    }

    private static void until(final String what, final BooleanSupplier condition)
    {
        QemuVm.until(what, condition);
    }

    private VmState.Kind stateAt(final int host, final VmHandle handle)
    {
        try
        {
            return drivers[host].state(handle).kind();
        }
        catch (final io.vmsched.vm.VmDriverException ex)
        {
            return null;
        }
    }

    @Test
    void aQemuVmGoesToTheOtherHostAndBackByLiveMigrationOneCopyRunningAtEachEnd() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "vm1");
        final ClusterConfig config = config(false);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, 1, "vm1", vm.socket, vm.process.pid());
            until("adopted", () -> cluster.placement().equals(Map.of(1L, 0)));

            cluster.migrate(1, 1);
            until("moved to host 1", () -> migrated.size() == 1);
            assertEquals(Map.of(1L, 1), cluster.placement());
            until("the source's copy is quit", () -> !vm.process.isAlive());
            final VmHandle there = received(config.journalDir(1), 1, 1);
            assertNotNull(there, "host 1 journaled the copy it received");
            assertNotEquals(vm.process.pid(), there.pid());
            until("host 1's copy is let run (after its ack: the source quits its own meanwhile)",
                () -> stateAt(1, there) == VmState.Kind.RUNNING);

            cluster.migrate(1, 0);
            until("moved back to host 0", () -> migrated.size() == 2);
            assertEquals(Map.of(1L, 0), cluster.placement());
            until("host 1's copy is quit", () -> ProcessHandle.of(there.pid()).map(p -> !p.isAlive()).orElse(true));
            final VmHandle back = received(config.journalDir(0), 0, 1);
            until("host 0's copy is let run", () -> stateAt(0, back) == VmState.Kind.RUNNING);
            assertTrue(aborted.isEmpty() && errors.isEmpty(), aborted + " " + errors);
        }
        assertEquals(2, live.size());
        for (final MigrationStatus status : live)
        {
            assertEquals(MigrationState.COMPLETED, status.state(), status::toString);
            assertTrue(status.totalTimeMs() >= 0 && status.downtimeMs() >= 0, status::toString);
        }
        for (int h = 0; h < 2; h++)
        {
            JournalCheck.verify(config.journalDir(h));
        }
    }

    /**
     * A driven VM's balloon goes through its driver's own QMP connection (QEMU serves one client per socket: a
     * second one would never get its greeting), on whichever host the VM runs: after a live migration, the copy's.
     * With no guest OS the guest gives nothing back: QEMU's side answers (REFUSED, the VM's 64 MiB), not "no
     * balloon driver". A VM without a balloon device says so.
     */
    @Test
    void aDrivenVmsBalloonGoesThroughItsDriversConnectionWhereverTheVmRuns() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = QemuVm.start(binary, dir, "vm7", true);
        started.add(vm);
        final QemuVm bare = vm(binary, "vm8");
        final ClusterConfig config = config(false);
        config.host.balloonTimeoutNs = 30_000_000_000L;
        final long mib = 1 << 20;
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, 7, "vm7", vm.socket, vm.process.pid());
            cluster.adoptVm(0, 8, "vm8", bare.socket, bare.process.pid());
            until("adopted", () -> cluster.placement().equals(Map.of(7L, 0, 8L, 0)));

            final io.vmsched.balloon.BalloonResult here =
                cluster.balloon(7, 32 * mib, io.vmsched.balloon.BalloonRequest.UNCHANGED).get(60, TimeUnit.SECONDS);
            assertEquals(io.vmsched.balloon.BalloonResult.Outcome.REFUSED, here.outcome(), () -> here + " " + errors);
            assertEquals(64 * mib, here.memoryBytes(), "QEMU's query-balloon: the VM holds its 64 MiB");
            assertTrue(here.reason().endsWith("no guest balloon driver answering"), here::toString);
            final io.vmsched.balloon.BalloonResult none =
                cluster.balloon(8, 32 * mib, io.vmsched.balloon.BalloonRequest.UNCHANGED).get(60, TimeUnit.SECONDS);
            assertEquals(io.vmsched.balloon.BalloonResult.Outcome.NO_BALLOON, none.outcome(), none::toString);

            cluster.migrate(7, 1); // the driver's connection still drives the VM: the migration goes through it
            until("moved to host 1", () -> migrated.size() == 1);
            until("the source's copy is quit", () -> !vm.process.isAlive());
            final io.vmsched.balloon.BalloonResult there =
                cluster.balloon(7, 48 * mib, io.vmsched.balloon.BalloonRequest.UNCHANGED).get(60, TimeUnit.SECONDS);
            assertEquals(io.vmsched.balloon.BalloonResult.Outcome.REFUSED, there.outcome(), there::toString);
            assertEquals(64 * mib, there.memoryBytes(), "host 1's copy answered: " + there);
            final VmHandle copy = received(config.journalDir(1), 1, 7);
            until("host 1's copy is let run", () -> stateAt(1, copy) == VmState.Kind.RUNNING);
            assertTrue(aborted.isEmpty() && errors.isEmpty(), aborted + " " + errors);
        }
    }

    @Test
    void aTargetThatCannotStartItsCopyLeavesTheVmRunningWhereItWas() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "vm2");
        Files.writeString(dir.resolve("run1"), "a file where host 1's run directory should be");
        final ClusterConfig config = config(false);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, 2, "vm2", vm.socket, vm.process.pid());
            until("adopted", () -> cluster.placement().equals(Map.of(2L, 0)));
            cluster.migrate(2, 1);
            until("the migration aborts", () -> aborted.size() == 1);
            assertEquals("2: the target did not activate it", aborted.get(0));
            assertEquals(Map.of(2L, 0), cluster.placement());
            assertTrue(vm.process.isAlive());
            final VmHandle here = new VmHandle("vm2", vm.process.pid(), vm.socket, new byte[0], null);
            assertEquals(VmState.Kind.RUNNING, stateAt(0, here), "the VM runs on where it was");
        }
        final List<String> why = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(config.journalDir(1), 1))
        {
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.ABORTED)
                {
                    why.add(record.text());
                }
            });
        }
        assertEquals(1, why.size(), why::toString);
        assertTrue(why.get(0).startsWith("target could not start the incoming copy: "), why::toString);
        assertFalse(why.get(0).contains("\n"), why::toString);
    }

    /** @return why host 1 refused what it refused, from its journal. */
    private static List<String> targetAborts(final ClusterConfig config)
    {
        final List<String> why = new ArrayList<>();
        for (int h = 0; h < 2; h++)
        {
            try (ChronicleJournal journal = ChronicleJournal.openReadOnly(config.journalDir(h), h))
            {
                final int host = h;
                journal.replay((index, record) ->
                {
                    if (record.type() == RecordType.ABORTED)
                    {
                        why.add("host " + host + ": " + record.text());
                    }
                });
            }
        }
        return why;
    }

    /** @return the live QEMU processes of a VM: its own and any copy of it a driver started. */
    private List<ProcessHandle> copiesOf(final String name)
    {
        final String own = dir.resolve(name + ".sock").toString();
        final String run0 = dir.resolve("run0").resolve(name + ".qmp").toString();
        final String run1 = dir.resolve("run1").resolve(name + ".qmp").toString();
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).filter(p ->
        {
            final String line = p.info().commandLine().orElse("");
            return line.contains("qemu-system") && (line.contains(own) || line.contains(run0) || line.contains(run1));
        }).toList();
    }

    @Test
    void theBalancerSpreadsQemuVmsByLiveMigrationAndEachRunsOnceAtTheEnd() throws Exception
    {
        final String binary = qemu();
        final ClusterConfig config = config(true);
        try (Cluster cluster = Cluster.start(config))
        {
            for (int i = 1; i <= 3; i++)
            {
                final QemuVm vm = vm(binary, "vm" + i);
                cluster.adoptVm(0, 10 + i, "vm" + i, vm.socket, vm.process.pid());
                cluster.programLoad(10 + i, 0.4, 0, 0); // host 0 carries 1.2 cores of 1: the balancer sheds
            }
            until("the balancer moved one to host 1", () -> cluster.placement().containsValue(1));
            cluster.balancing(false);
            until("no migration in flight", () -> cluster.migrationsInFlight() == 0);
            assertTrue(aborted.isEmpty() && errors.isEmpty(), aborted + " " + errors + " " + targetAborts(config));
            for (int i = 1; i <= 3; i++)
            {
                final String name = "vm" + i;
                until(name + " runs as one process", () -> copiesOf(name).size() == 1);
            }
        }
        assertFalse(live.isEmpty());
        assertTrue(live.stream().allMatch(s -> s.state() == MigrationState.COMPLETED), live::toString);
    }

    @Test
    void aTargetCopyKilledDuringTheMigrationFailsItAndTheVmRunsOnWhereItWas() throws Exception
    {
        final String binary = qemu();
        // 256 MiB of zero pages at 32 KiB/s: the migration lasts about 30 s, long enough to be cut
        final QemuVm vm = QemuVm.start(binary, dir, "vm4", 256, List.of());
        started.add(vm);
        final ClusterConfig config = config(false);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, 4, "vm4", vm.socket, vm.process.pid());
            until("adopted", () -> cluster.placement().equals(Map.of(4L, 0)));
            final VmHandle here = new VmHandle("vm4", vm.process.pid(), vm.socket, new byte[0], null);
            drivers[0].execute(here, "migrate-set-parameters", Map.of("max-bandwidth", 32 << 10));
            cluster.migrate(4, 1);
            until("the migration is under way", () ->
            {
                try
                {
                    return drivers[0].migration(here).state() == MigrationState.ACTIVE && copiesOf("vm4").size() == 2;
                }
                catch (final io.vmsched.vm.VmDriverException ex)
                {
                    return false;
                }
            });
            for (final ProcessHandle copy : copiesOf("vm4"))
            {
                if (copy.pid() != vm.process.pid())
                {
                    copy.destroyForcibly(); // the target's incoming copy dies mid-way
                }
            }
            until("the migration aborts", () -> aborted.size() == 1);
            assertEquals(Map.of(4L, 0), cluster.placement());
            until("the VM runs on where it was", () -> stateAt(0, here) == VmState.Kind.RUNNING);
            assertEquals(List.of(vm.process.pid()), copiesOf("vm4").stream().map(ProcessHandle::pid).toList());
            assertTrue(migrated.isEmpty());
        }
        for (int h = 0; h < 2; h++)
        {
            JournalCheck.verify(config.journalDir(h));
        }
    }

    @Test
    void aSourceKilledDuringTheMigrationIsReportedAndNoCopyIsLeftHalfMade() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = QemuVm.start(binary, dir, "vm5", 256, List.of());
        started.add(vm);
        final ClusterConfig config = config(false);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, 5, "vm5", vm.socket, vm.process.pid());
            until("adopted", () -> cluster.placement().equals(Map.of(5L, 0)));
            final VmHandle here = new VmHandle("vm5", vm.process.pid(), vm.socket, new byte[0], null);
            drivers[0].execute(here, "migrate-set-parameters", Map.of("max-bandwidth", 32 << 10));
            cluster.migrate(5, 1);
            until("the migration is under way", () -> copiesOf("vm5").size() == 2);
            vm.kill(); // the source's QEMU dies mid-way: nothing can run the VM now
            until("the migration aborts", () -> aborted.size() == 1);
            until("the target's half-made copy is quit", () -> copiesOf("vm5").isEmpty());
            assertEquals(Map.of(5L, 0), cluster.placement(), "it stays where it was, reported");
            until("the loss is reported", () -> errors.stream().anyMatch(e -> e.getMessage().contains("vm 5")));
        }
    }

    @Test
    void badAdoptionsAreRefusedWithOneLine() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "vm6");
        final QemuVm other = vm(binary, "vm7");
        try (Cluster cluster = Cluster.start(config(false)))
        {
            final IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> cluster.adoptVm(0, 6, "vm6", dir.resolve("no.sock"), vm.process.pid()));
            final IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> cluster.adoptVm(0, 6, "vm6", vm.socket, other.process.pid()));
            cluster.adoptVm(0, 6, "vm6", vm.socket, vm.process.pid());
            final IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> cluster.adoptVm(0, 8, "again", vm.socket, vm.process.pid()));
            for (final IllegalArgumentException ex : List.of(missing, mismatch, twice))
            {
                assertTrue(ex.getMessage().startsWith("vm ") && ex.getMessage().contains(" not adopted: "), ex.getMessage());
                assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
            }
            assertTrue(cluster.placement().isEmpty() || cluster.placement().equals(Map.of(6L, 0)));
        }
    }
}
