package io.vmsched.qemu;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import io.vmsched.vm.MigrationState;
import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmDriver;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QemuVmDriver}'s spare incoming copies against real QEMU processes (TCG, no guest OS; skipped, with the
 * reason, where {@code qemu-system-x86_64} is missing): a second migration to a host takes a spare and a
 * replacement starts; a dead spare is not handed out; close quits the spares; after a crash, recovery quits a spare
 * and a copy never journaled as strays and never resumes them. Waits are on conditions with deadlines, never fixed
 * sleeps; every QEMU process a test starts, or a driver starts for it, is killed at the end (bounded waits).
 */
@Timeout(300)
class QemuSparesTest
{
    @TempDir
    Path dir;

    private final List<QemuVm> started = new ArrayList<>();
    private final List<QemuVmDriver> drivers = new ArrayList<>();
    private final List<Process> jvms = new ArrayList<>();

    @AfterEach
    void stopEverything()
    {
        drivers.forEach(QemuVmDriver::close);
        for (final Process jvm : jvms)
        {
            jvm.destroyForcibly();
            await(jvm.toHandle());
        }
        started.forEach(QemuVm::kill);
        QemuProcesses.killUnder(dir); // the copies: no one's children
    }

    private static void await(final ProcessHandle p)
    {
        try
        {
            p.onExit().get(10, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            // the test reports its own failure
        }
    }

    private static String qemu()
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        return binary;
    }

    private QemuVmDriver driver(final String run, final int perSpec)
    {
        final QemuVmDriver d = new QemuVmDriver(dir.resolve(run), QemuVmDriver.DEFAULT_BIND, QmpClient.DEFAULT_TIMEOUT,
            QemuVmDriver.DEFAULT_START_TIMEOUT, Duration.ofSeconds(10), perSpec, 4);
        drivers.add(d);
        return d;
    }

    private QemuVm vm(final String binary, final String name) throws Exception
    {
        final QemuVm vm = QemuVm.start(binary, dir, name, false);
        started.add(vm);
        return vm;
    }

    private static void until(final String what, final java.util.function.BooleanSupplier condition)
    {
        QemuVm.until(what, condition);
    }

    private static boolean running(final long pid)
    {
        return ProcessHandle.of(pid).map(p -> !QemuVmDriver.exited(p)).orElse(false);
    }

    private static List<Long> pids(final List<ProcessHandle> processes)
    {
        return processes.stream().map(ProcessHandle::pid).toList();
    }

    /** @return whether the driver keeps {@code n} spares ready and starts none. */
    private static boolean settled(final QemuVmDriver driver, final int n)
    {
        return driver.sparesStarting() == 0 && driver.spares().size() == n &&
            driver.spares().stream().allMatch(ProcessHandle::isAlive);
    }

    /** Migrate a source to a copy and wait until the copy holds the VM, paused. */
    private static void migrate(final QemuVmDriver from, final VmHandle source, final QemuVmDriver to,
        final VmHandle copy) throws Exception
    {
        from.migrate(source, copy.incomingUri());
        until("the migration completes", () -> state(from, source) == MigrationState.COMPLETED);
        until("the copy holds it, paused", () -> kind(to, copy) == VmState.Kind.PAUSED);
    }

    private static MigrationState state(final QemuVmDriver driver, final VmHandle vm)
    {
        try
        {
            final MigrationStatus status = driver.migration(vm);
            assertNotEquals(MigrationState.FAILED, status.state(), status::toString);
            return status.state();
        }
        catch (final VmDriverException ex)
        {
            throw new AssertionError(ex.getMessage(), ex);
        }
    }

    private static VmState.Kind kind(final QemuVmDriver driver, final VmHandle vm)
    {
        try
        {
            return driver.state(vm).kind();
        }
        catch (final VmDriverException ex)
        {
            throw new AssertionError(ex.getMessage(), ex);
        }
    }

    @Test
    void aSecondMigrationToAHostTakesASpareAndAReplacementStarts() throws Exception
    {
        final String binary = qemu();
        final QemuVm one = vm(binary, "one");
        final QemuVm two = vm(binary, "two"); // the same spec as one's
        final QemuVmDriver source = driver("runA", 0);
        final QemuVmDriver target = driver("runB", 1);
        final Path runB = dir.resolve("runB").toAbsolutePath();

        // the first: the target has not seen the spec, so it starts a copy of its own
        final VmHandle from1 = source.adopt("one", one.socket, one.process.pid());
        final VmHandle copy1 = target.prepareIncoming("one", from1.spec());
        assertFalse(Files.isSymbolicLink(copy1.control()), "a copy started for it: " + copy1.control());
        assertTrue(Files.readString(Path.of("/proc", Long.toString(copy1.pid()), "cmdline")).contains(
            runB.resolve("one.qmp").toString()));
        migrate(source, from1, target, copy1);
        target.resume(copy1); // the migration is over: its spec's spare starts
        until("a spare of the spec is ready", () -> settled(target, 1));
        final ProcessHandle spare = target.spares().get(0);
        assertTrue(Files.readString(Path.of("/proc", Long.toString(spare.pid()), "cmdline")).contains("/.spare-"));
        assertTrue(target.copies().stream().noneMatch(c -> c.pid() == spare.pid()),
            "a spare is not a copy: " + target.copies());

        // the second: the spare becomes two's copy
        final VmHandle from2 = source.adopt("two", two.socket, two.process.pid());
        final VmHandle copy2 = target.prepareIncoming("two", from2.spec());
        assertEquals(spare.pid(), copy2.pid(), "the spare's process is the copy");
        assertEquals(runB.resolve("two.qmp"), copy2.control(), "named as any copy of two");
        assertTrue(Files.isSymbolicLink(copy2.control()));
        assertArrayEquals(from2.spec(), copy2.spec());
        assertTrue(copy2.incomingUri().matches("tcp:127\\.0\\.0\\.1:[1-9][0-9]*"), copy2.incomingUri());
        assertFalse(pids(target.spares()).contains(spare.pid()), "handed out: no longer a spare");
        assertTrue(target.copies().stream().anyMatch(c -> c.pid() == spare.pid() && c.name().equals("two") &&
            c.control().equals(copy2.control())), "listed as two's copy: " + target.copies());
        assertEquals(spare.pid(), QemuProcesses.pidServing(copy2.control()), "the process behind two's socket");
        assertEquals(VmState.Kind.INMIGRATE, target.state(copy2).kind());

        migrate(source, from2, target, copy2);
        target.resume(copy2);
        assertEquals(VmState.Kind.RUNNING, target.state(copy2).kind());
        source.remove(from2);
        assertTrue(two.process.waitFor(10, TimeUnit.SECONDS), "the source's process ended");
        until("a replacement spare is ready", () -> settled(target, 1) && target.spares().get(0).pid() != spare.pid());

        // the copy made of a spare outlives its driver, and another driver takes it by two's socket
        target.close();
        assertTrue(running(copy2.pid()), "close quits spares, not copies");
        final QemuVmDriver after = driver("runB", 0);
        final VmHandle again = after.adopt("two", copy2.control(), copy2.pid());
        assertArrayEquals(from2.spec(), again.spec(), "the spec read back from its command line");
        assertEquals(VmState.Kind.RUNNING, after.state(again).kind());
        assertEquals(VmState.Kind.RUNNING, after.state(new VmHandle("two", copy2.pid(),
            runB.resolve(Files.readSymbolicLink(copy2.control())), new byte[0], null)).kind(), "by the spare's path too");
        after.remove(again);
        assertFalse(running(copy2.pid()));
    }

    @Test
    void aDeadSpareIsNotHandedOut() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "vm");
        final QemuVmDriver driver = driver("run", 1);
        final VmHandle adopted = driver.adopt("vm", vm.socket, vm.process.pid()); // a spec seen: a spare starts
        until("a spare is ready", () -> settled(driver, 1));
        final ProcessHandle spare = driver.spares().get(0);
        final Path spareSocket = Path.of(Files.readString(Path.of("/proc", Long.toString(spare.pid()), "cmdline"))
            .replaceAll("(?s).*unix:([^,]*),.*", "$1"));
        assertTrue(Files.exists(spareSocket), spareSocket.toString());
        spare.destroyForcibly();
        spare.onExit().get(10, TimeUnit.SECONDS);

        final VmHandle copy = driver.prepareIncoming("vm-in", adopted.spec());
        assertNotEquals(spare.pid(), copy.pid());
        assertFalse(Files.isSymbolicLink(copy.control()), "a copy of its own: " + copy.control());
        assertFalse(pids(driver.spares()).contains(spare.pid()), "the dead spare is dropped");
        assertFalse(Files.exists(spareSocket), "and its socket deleted");
        migrate(driver, adopted, driver, copy);
        driver.resume(copy);
        assertEquals(VmState.Kind.RUNNING, driver.state(copy).kind());
        driver.remove(adopted);
        driver.remove(copy);
    }

    @Test
    void closeQuitsTheSparesReadyAndStarting() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "vm");
        final Path run = dir.resolve("run");
        final QemuVmDriver ready = driver("run", 1);
        ready.adopt("vm", vm.socket, vm.process.pid());
        until("a spare is ready", () -> settled(ready, 1));
        final ProcessHandle spare = ready.spares().get(0);
        ready.close();
        assertTrue(QemuVmDriver.exited(spare), "the spare quit, waited for (a zombie not reaped yet has exited)");
        assertEquals(List.of(), QemuProcesses.under(run), "no QEMU process of the driver is left");
        assertTrue(vm.process.isAlive(), "the VM is not the driver's");

        // one whose start is under way when the driver closes: killed, waited for
        final QemuVmDriver starting = driver("run", 1);
        starting.adopt("vm", vm.socket, vm.process.pid());
        until("a spare is starting", () -> !starting.spares().isEmpty());
        starting.close();
        assertEquals(List.of(), QemuProcesses.under(run), "no QEMU process of the driver is left");
        assertTrue(vm.process.isAlive());
        try (var files = Files.list(run))
        {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith(".spare-"))
                .toList(), "the spares' sockets and logs are deleted");
        }
    }

    @Test
    void aSpecThatHoldsAHostEndpointGetsNoSpare() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = QemuVm.start(binary, dir, "vm", 64, List.of("-monitor",
            "unix:" + dir.resolve("vm.hmp") + ",server=on,wait=off"));
        started.add(vm);
        final QemuVmDriver driver = driver("run", 1);
        final VmHandle adopted = driver.adopt("vm", vm.socket, vm.process.pid());
        assertEquals("-monitor unix:" + dir.resolve("vm.hmp") + ",server=on,wait=off",
            QemuCommandLine.notPoolable(QemuCommandLine.split(adopted.spec())));
        assertEquals(0, driver.sparesStarting());
        assertEquals(List.of(), driver.spares(), "a spare would take the VM's human monitor socket");
        assertTrue(Files.exists(dir.resolve("vm.hmp")));
    }

    /** Records the calls recovery makes of a host's driver. */
    private static final class Recording implements VmDriver
    {
        final QemuVmDriver driver;
        final List<String> calls = new CopyOnWriteArrayList<>();

        Recording(final QemuVmDriver driver)
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
            calls.add("adopt " + name + " " + pid);
            return driver.adopt(name, control, pid);
        }

        @Override
        public VmHandle prepareIncoming(final String name, final byte[] spec) throws VmDriverException
        {
            calls.add("prepareIncoming " + name);
            return driver.prepareIncoming(name, spec);
        }

        @Override
        public void migrate(final VmHandle source, final String uri) throws VmDriverException
        {
            calls.add("migrate " + source.pid());
            driver.migrate(source, uri);
        }

        @Override
        public MigrationStatus migration(final VmHandle vm) throws VmDriverException
        {
            return driver.migration(vm);
        }

        @Override
        public VmState state(final VmHandle vm) throws VmDriverException
        {
            return driver.state(vm);
        }

        @Override
        public MigrationStatus awaitMigration(final VmHandle vm, final long timeoutNs) throws VmDriverException
        {
            return driver.awaitMigration(vm, timeoutNs);
        }

        @Override
        public VmState awaitStateChange(final VmHandle vm, final VmState.Kind leaving, final long timeoutNs)
            throws VmDriverException
        {
            return driver.awaitStateChange(vm, leaving, timeoutNs);
        }

        @Override
        public void cancelMigration(final VmHandle vm) throws VmDriverException
        {
            calls.add("cancelMigration " + vm.pid());
            driver.cancelMigration(vm);
        }

        @Override
        public void resume(final VmHandle vm) throws VmDriverException
        {
            calls.add("resume " + vm.pid());
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
            calls.add("remove " + vm.pid());
            driver.remove(vm);
        }

        @Override
        public List<VmHandle> copies() throws VmDriverException
        {
            return driver.copies();
        }

        @Override
        public void close()
        {
            driver.close();
        }
    }

    @Test
    void afterACrashASpareAndACopyNeverJournaledAreQuitAsStraysAndNeverRun() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "vm");
        final VmHandle adopted;
        try (QemuVmDriver look = new QemuVmDriver(dir.resolve("run0"), QemuVmDriver.DEFAULT_BIND,
            QmpClient.DEFAULT_TIMEOUT, QemuVmDriver.DEFAULT_START_TIMEOUT, Duration.ofSeconds(10), 0, 0))
        {
            adopted = look.adopt("vm", vm.socket, vm.process.pid());
        }
        final Path specFile = dir.resolve("vm.spec");
        Files.write(specFile, adopted.spec());

        // host 1's JVM: a spare never handed out, and one handed out as a copy it had not journaled yet, then SIGKILL
        final Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            SpareCrashChild.class.getName(), dir.resolve("run1").toString(), specFile.toString())
            .redirectError(dir.resolve("child.err").toFile()).start();
        jvms.add(jvm);
        final BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
        final String line = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return out.readLine();
            }
            catch (final java.io.IOException ex)
            {
                return null;
            }
        }).get(120, TimeUnit.SECONDS);
        assertNotNull(line, () -> "the child said nothing: " + read(dir.resolve("child.err")));
        final String[] words = line.split(" ");
        assertEquals("READY", words[0], line);
        final long first = Long.parseLong(words[1]);
        final long handed = Long.parseLong(words[2]);
        final long spare = Long.parseLong(words[3]);
        assertFalse(running(first), "the first copy was removed");
        assertTrue(running(handed) && running(spare));
        jvm.destroyForcibly(); // SIGKILL: no close, the spares live on
        assertTrue(jvm.waitFor(10, TimeUnit.SECONDS));
        assertTrue(running(handed) && running(spare), "they outlived the JVM");

        // an orphaned spare is no VM's: adopted only as itself, never resumed
        final Path spareSocket = Path.of(Files.readString(Path.of("/proc", Long.toString(spare), "cmdline"))
            .replaceAll("(?s).*unix:([^,]*),.*", "$1"));
        final String spareName = spareSocket.getFileName().toString().replace(".qmp", "");
        try (QemuVmDriver look = new QemuVmDriver(dir.resolve("run1"), QemuVmDriver.DEFAULT_BIND,
            QmpClient.DEFAULT_TIMEOUT, QemuVmDriver.DEFAULT_START_TIMEOUT, Duration.ofSeconds(10), 0, 0))
        {
            final VmDriverException asVm = assertThrows(VmDriverException.class, () -> look.adopt("vm", spareSocket, spare));
            assertEquals("vm vm: " + spareSocket + " is a spare incoming copy, no VM's: a copy made of one is adopted by " +
                "its VM's socket (RUN_DIR/NAME.qmp), a spare only as itself (" + spareName + ") to be removed",
                asVm.getMessage());
            final VmHandle itself = look.adopt(spareName, spareSocket, spare);
            assertEquals("vm " + spareName + ": a spare incoming copy is never resumed: it holds no VM",
                assertThrows(VmDriverException.class, () -> look.resume(itself)).getMessage());
            assertEquals(VmState.Kind.INMIGRATE, look.state(itself).kind());
        } // let go: the spare runs on, for recovery to find

        // the journals: the VM admitted on host 0; host 1 journaled nothing (the crash came before RECEIVED)
        final ClusterConfig config = ClusterConfig.of(2, dir.resolve("data"));
        try (ChronicleJournal journal = ChronicleJournal.open(config.journalDir(0), 0))
        {
            journal.appendGuest(RecordType.ADMITTED, 0, 5, -1, 1, ("vm:" + QemuVmDriver.KIND)
                .getBytes(StandardCharsets.UTF_8), adopted.encode());
        }
        config.host.balancing = false;
        final Recording[] recorded = new Recording[2];
        config.host.vmDriver = h -> recorded[h] = new Recording(driver("run" + h, 1));
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        config.listener = new ClusterListener()
        {
            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.add(error);
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(Map.of(5L, 0), cluster.placement());
            assertFalse(running(handed), "the copy never journaled is quit");
            assertFalse(running(spare), "the spare is quit");
            assertEquals(VmState.Kind.RUNNING, recorded[0].driver.state(new VmHandle("vm", vm.process.pid(),
                vm.socket.toAbsolutePath(), new byte[0], null)).kind(), "the VM runs on where it was");
            final List<String> calls = recorded[1].calls;
            assertTrue(calls.stream().noneMatch(c -> c.startsWith("resume ")), calls::toString);
            assertTrue(calls.contains("adopt handed " + handed) && calls.contains("remove " + handed), calls::toString);
            assertTrue(calls.contains("remove " + spare), "quit through its QMP: " + calls);
            assertTrue(calls.stream().filter(c -> c.startsWith("adopt ") && c.endsWith(" " + spare))
                .allMatch(c -> c.startsWith("adopt .spare-")), "a spare is adopted only as itself: " + calls);
            assertTrue(errors.isEmpty(), errors::toString);
            // host 1's new driver saw the spec by the copy it quit: it may keep a spare of its own, nothing else
            final List<Long> left = new ArrayList<>(pids(QemuProcesses.under(dir.resolve("run1"))));
            left.removeAll(pids(recorded[1].driver.spares()));
            assertEquals(List.of(), left, "nothing of host 1's crashed JVM is left");
            // and none of its files: the spares' sockets and logs, the handed-out copy's link
            final String crashedTag = spareName.substring(0, spareName.lastIndexOf('-') + 1);
            try (var files = Files.list(dir.resolve("run1")))
            {
                final List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
                assertTrue(names.stream().noneMatch(f -> f.startsWith(crashedTag) || f.startsWith("handed.")),
                    "the crashed driver's files are swept: " + names);
            }
        }
    }

    private static String read(final Path file)
    {
        try
        {
            return Files.readString(file).strip();
        }
        catch (final java.io.IOException ex)
        {
            return ex.toString();
        }
    }
}
