package io.vmsched.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vmsched.vm.MigrationState;
import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
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
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QemuVmDriver} against real QEMU processes (TCG, no guest OS; skipped, with the reason, where
 * {@code qemu-system-x86_64} is missing): adopt, an incoming copy and a live migration to it, and the failure
 * paths. Every QEMU a test starts, directly or through the driver, is killed in {@link #stopEverything} (bounded
 * waits). Waits are on conditions with deadlines, never fixed sleeps.
 * <p>
 * A migration of a VM without a guest OS moves zero pages, a few bytes each: 64 MiB takes about 0.15 s. The test
 * that kills the target mid-way uses 256 MiB and caps the source's bandwidth at 32 KiB/s ({@code
 * migrate-set-parameters max-bandwidth}) so that the migration lasts about 30 s and is killed while active.
 */
@Timeout(180)
class QemuVmDriverTest
{
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final long SLOW_BANDWIDTH = 32 << 10;

    @TempDir
    Path dir;

    private final List<QemuVm> started = new ArrayList<>();
    private final List<ProcessHandle> copies = new ArrayList<>(); // handles: never a later process with the pid
    private final List<QemuVmDriver> drivers = new ArrayList<>();
    private final List<Process> jvms = new ArrayList<>();
    private QemuVmDriver driver;

    @BeforeEach
    void driver()
    {
        driver = driver(Duration.ofSeconds(20)); // QEMU starting beside a busy build answers its first command late (5 s seen short)
    }

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
        for (final ProcessHandle copy : copies)
        {
            copy.destroyForcibly();
            await(copy);
        }
    }

    private QemuVmDriver driver(final Duration qmpTimeout)
    {
        final QemuVmDriver d = new QemuVmDriver(dir.resolve("run"), QemuVmDriver.DEFAULT_BIND, qmpTimeout,
            QemuVmDriver.DEFAULT_START_TIMEOUT, Duration.ofSeconds(10));
        drivers.add(d);
        return d;
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

    private QemuVm vm(final String binary, final String name, final int memoryMib, final String... extra) throws Exception
    {
        final QemuVm vm = QemuVm.start(binary, dir, name, memoryMib, List.of(extra));
        started.add(vm);
        return vm;
    }

    private VmHandle incoming(final String name, final byte[] spec) throws VmDriverException
    {
        final VmHandle handle = driver.prepareIncoming(name, spec);
        ProcessHandle.of(handle.pid()).ifPresent(copies::add);
        return handle;
    }

    private static void waitUntil(final String what, final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "not within " + DEADLINE.toSeconds() + " s: " + what);
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    private MigrationStatus awaitMigration(final VmHandle source, final MigrationState until) throws Exception
    {
        final long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true)
        {
            final MigrationStatus status = driver.migration(source);
            if (status.state() == until || status.state().isFinal())
            {
                return status;
            }
            assertTrue(System.nanoTime() - deadline < 0, "migration not " + until + " within " + DEADLINE.toSeconds() +
                " s: " + status);
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private static VmDriverException refused(final String vm, final Executable call)
    {
        final VmDriverException ex = assertThrows(VmDriverException.class, call);
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
        assertTrue(ex.getMessage().startsWith("vm " + vm + ": "), ex.getMessage());
        assertEquals(vm, ex.vm());
        return ex;
    }

    private static void assertContains(final String expected, final String actual)
    {
        assertTrue(actual.contains(expected), "'" + expected + "' not in: " + actual);
    }

    // ---------------------------------------------------------------- the happy paths

    @Test
    void adoptsARunningQemuAndLearnsItsSpecFromItsCommandLine() throws Exception
    {
        final String binary = qemu();
        final Path pidfile = dir.resolve("a.pid");
        final QemuVm vm = vm(binary, "a", 64, "-name", "guest-a", "-pidfile", pidfile.toString(), "-S");
        final VmHandle handle = driver.adopt("a", vm.socket, vm.process.pid());

        assertEquals("qemu", driver.kind());
        assertEquals("a", handle.name());
        assertEquals(vm.process.pid(), handle.pid());
        assertEquals(vm.socket.toAbsolutePath(), handle.control());
        assertNull(handle.incomingUri());
        // the per-instance parts go: the QMP socket, -pidfile, -S
        assertEquals(List.of(binary, "-M", "q35", "-m", "64", "-nodefaults", "-nographic", "-display", "none",
            "-name", "guest-a"), QemuCommandLine.split(handle.spec()));
        assertEquals(handle, VmHandle.decode(handle.encode()));

        assertEquals(new VmState(VmState.Kind.OTHER, "prelaunch"), driver.state(handle)); // -S
        assertEquals(MigrationState.NONE, driver.migration(handle).state());
        driver.resume(handle);
        assertEquals(new VmState(VmState.Kind.RUNNING, "running"), driver.state(handle));
        driver.stop(handle);
        assertEquals(new VmState(VmState.Kind.PAUSED, "paused"), driver.state(handle));
        driver.resume(handle);
        assertEquals(VmState.Kind.RUNNING, driver.state(handle).kind());
        assertEquals("guest-a", driver.execute(handle, "query-name", null).path("name").asText());

        driver.remove(handle);
        assertTrue(vm.process.waitFor(10, TimeUnit.SECONDS), "quit ends the process"); // reaped by the JVM: late when busy
        assertContains("not adopted by this driver", refused("a", () -> driver.state(handle)).getMessage());
    }

    @Test
    void migratesToAnIncomingCopyThenTheSourceIsRemovedAndExactlyOneRuns() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "src", 64);
        final VmHandle source = driver.adopt("m", vm.socket, vm.process.pid());
        final VmHandle target = incoming("m-in", source.spec());

        assertTrue(target.incomingUri().matches("tcp:127\\.0\\.0\\.1:[1-9][0-9]*"), target.incomingUri());
        assertEquals(dir.resolve("run").resolve("m-in.qmp").toAbsolutePath(), target.control());
        assertArrayEquals(source.spec(), target.spec());
        assertEquals(VmState.Kind.INMIGRATE, driver.state(target).kind());
        final String cmdline = Files.readString(Path.of("/proc", Long.toString(target.pid()), "cmdline"));
        assertTrue(cmdline.startsWith(binary + "\0"), "the copy's PID is QEMU's (setsid execs it): " + cmdline);

        driver.migrate(source, target.incomingUri());
        final MigrationStatus done = awaitMigration(source, MigrationState.COMPLETED);
        assertEquals(MigrationState.COMPLETED, done.state(), done.toString());
        assertEquals("completed", done.status());
        assertTrue(done.totalTimeMs() >= 0 && done.downtimeMs() >= 0 && done.transferredBytes() > 0, done.toString());
        assertEquals("", done.error());

        waitUntil("the target has it, paused until it is let run", () -> kind(target) == VmState.Kind.PAUSED);
        assertEquals(new VmState(VmState.Kind.POSTMIGRATE, "postmigrate"), driver.state(source));
        driver.resume(target);
        assertEquals(VmState.Kind.RUNNING, driver.state(target).kind());
        assertEquals(MigrationState.COMPLETED, driver.migration(target).state());

        driver.remove(source);
        assertTrue(vm.process.waitFor(10, TimeUnit.SECONDS), "the source's process ended");
        assertTrue(running(target.pid()));
        assertEquals(VmState.Kind.RUNNING, driver.state(target).kind(), "exactly one copy runs: the target");

        driver.remove(target);
        assertFalse(running(target.pid()));
        assertFalse(Files.exists(target.control()), "the copy's socket is deleted");
    }

    @Test
    void aRetiredCopysNameWaitsForItsExitAndTheNextCopyOfItKeepsItsSocket() throws Exception
    {
        final String binary = qemu();
        final QemuVmDriver a = spares("run-a", 0);
        final QemuVmDriver b = spares("run-b", 1); // its next copy of m is a spare's: made in a few ms, its link m.qmp
        final QemuVm vm = vm(binary, "src", 64);
        final VmHandle source = a.adopt("m", vm.socket, vm.process.pid());
        final VmHandle there = prepare(b, "m", source.spec());
        liveMigrate(a, source, b, there);

        a.retire(source);
        assertContains("not adopted by this driver", refused("m", () -> a.state(source)).getMessage());
        assertTrue(vm.process.waitFor(10, TimeUnit.SECONDS), "a retired QEMU exits on its own");
        waitUntil("the retired name is free", () -> a.retiring().isEmpty());

        // back to a copy in a's run directory, then b retires its copy and at once makes a new one of the name: the
        // old QEMU unlinks its socket (the name's path) as it exits, so the new copy must wait for that
        final VmHandle back = prepare(a, "m", there.spec());
        liveMigrate(b, there, a, back);
        waitUntil("b has a spare of m's spec", () -> b.spares().size() == 1 && b.sparesStarting() == 0);
        final java.util.concurrent.CountDownLatch exit = new java.util.concurrent.CountDownLatch(1);
        b.beforeRetiredExit = () ->
        {
            try
            {
                exit.await(); // a QEMU slow to exit, as on a busy host: the retirement is not over until it is let go
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        };
        b.retire(there);
        final CompletableFuture<VmHandle> next = new CompletableFuture<>();
        final Thread preparing = new Thread(() ->
        {
            try
            {
                next.complete(prepare(b, "m", back.spec()));
            }
            catch (final Throwable ex)
            {
                next.completeExceptionally(ex);
            }
        }, "prepare-m");
        preparing.start();
        waitUntil("the new copy waits for the retired one", () -> b.retiring().contains("m") &&
            java.util.Arrays.stream(preparing.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitRetired")));
        assertFalse(next.isDone());
        exit.countDown();
        final VmHandle again = next.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        assertFalse(running(there.pid()), "the new copy was made once the retired one exited");
        assertTrue(b.retiring().isEmpty(), b.retiring().toString());
        assertTrue(Files.isSymbolicLink(again.control()), "the copy is the spare's, by its link");
        assertTrue(Files.exists(again.control()), "the new copy's socket (its link) is there");
        assertEquals(VmState.Kind.INMIGRATE, b.state(again).kind(), "and answers");
        assertEquals(VmState.Kind.RUNNING, a.state(back).kind(), "exactly one copy runs");

        b.retire(again);
        a.close(); // waits for nothing: back still runs, and is left running (killed at the end of the test)
        b.close(); // waits for the retired copy's exit and its files
        assertFalse(running(again.pid()));
        assertFalse(Files.exists(again.control()), "a retired copy's socket is deleted");
        assertFalse(Files.exists(again.control(), java.nio.file.LinkOption.NOFOLLOW_LINKS), "nor its link");
    }

    private QemuVmDriver spares(final String run, final int perSpec)
    {
        final QemuVmDriver d = new QemuVmDriver(dir.resolve(run), QemuVmDriver.DEFAULT_BIND, Duration.ofSeconds(20),
            QemuVmDriver.DEFAULT_START_TIMEOUT, Duration.ofSeconds(10), perSpec, 4);
        drivers.add(d);
        return d;
    }

    private VmHandle prepare(final QemuVmDriver d, final String name, final byte[] spec) throws VmDriverException
    {
        final VmHandle handle = d.prepareIncoming(name, spec);
        ProcessHandle.of(handle.pid()).ifPresent(copies::add);
        return handle;
    }

    /** Migrate, wait until the target's copy holds the VM, let it run. */
    private static void liveMigrate(final QemuVmDriver from, final VmHandle source, final QemuVmDriver to,
        final VmHandle target) throws Exception
    {
        from.migrate(source, target.incomingUri());
        final MigrationStatus done = from.awaitMigration(source, DEADLINE.toNanos());
        assertEquals(MigrationState.COMPLETED, done.state(), done.toString());
        final VmState held = to.awaitStateChange(target, VmState.Kind.INMIGRATE, DEADLINE.toNanos());
        assertEquals(VmState.Kind.PAUSED, held.kind(), held.toString());
        to.resume(target);
    }

    @Test
    void theWaitsForAMigrationsEndReturnWhenQemuSaysItEnded() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "src", 64);
        final VmHandle source = driver.adopt("w", vm.socket, vm.process.pid());
        final VmHandle target = incoming("w-in", source.spec());
        final long wait = TimeUnit.SECONDS.toNanos(90); // far beyond the test's own deadlines: an event ends it
        assertEquals(VmState.Kind.INMIGRATE, driver.awaitStateChange(target, VmState.Kind.INMIGRATE, 0).kind(),
            "no wait: asked once");

        assertEquals(-1, driver.migrationEndMicros("w"), "no migration ended yet");
        final long start = System.nanoTime();
        final long beforeUs = epochMicros();
        driver.migrate(source, target.incomingUri());
        final MigrationStatus done = driver.awaitMigration(source, wait);
        assertEquals(MigrationState.COMPLETED, done.state(), done.toString());
        final VmState held = driver.awaitStateChange(target, VmState.Kind.INMIGRATE, wait);
        assertEquals(VmState.Kind.PAUSED, held.kind(), held.toString());
        final long afterUs = epochMicros();
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // QEMU's own times of each side's end, by this machine's clock (1 ms either side: clocks read apart)
        for (final String side : new String[] {"w", "w-in"})
        {
            final long endUs = driver.migrationEndMicros(side);
            assertTrue(endUs >= beforeUs - 1_000 && endUs <= afterUs + 1_000, side + "'s end " + endUs +
                " µs, not within the migration's " + beforeUs + ".." + afterUs);
        }
        assertTrue(tookMs < DEADLINE.toMillis(), "told by QEMU's events, not at the end of the wait: " + tookMs + " ms");
        assertEquals(MigrationState.COMPLETED, driver.awaitMigration(source, wait).state(), "an end is final");
        driver.resume(target);
        driver.remove(source);
        driver.remove(target);
    }

    private static long epochMicros()
    {
        return java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, java.time.Instant.now());
    }

    private VmState.Kind kind(final VmHandle vm)
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

    // ---------------------------------------------------------------- failures of the VMs

    @Test
    void aTargetKilledMidMigrationFailsItAndTheSourceRunsAgainOnResume() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "src", 256);
        final VmHandle source = driver.adopt("k", vm.socket, vm.process.pid());
        final VmHandle target = incoming("k-in", source.spec());
        driver.execute(source, "migrate-set-parameters", Map.of("max-bandwidth", SLOW_BANDWIDTH));

        driver.migrate(source, target.incomingUri());
        final MigrationStatus active = awaitMigration(source, MigrationState.ACTIVE);
        assertEquals(MigrationState.ACTIVE, active.state(), "still going when the target is killed: " + active);
        waitUntil("some bytes sent", () -> transferred(source) > 0);

        final ProcessHandle copy = ProcessHandle.of(target.pid()).orElseThrow();
        copy.destroyForcibly();
        copy.onExit().get(10, TimeUnit.SECONDS);

        final MigrationStatus failed = awaitMigration(source, MigrationState.FAILED);
        assertEquals(MigrationState.FAILED, failed.state(), failed.toString());
        final VmState afterFailure = driver.state(source);
        assertTrue(afterFailure.kind() == VmState.Kind.RUNNING || afterFailure.kind() == VmState.Kind.PAUSED,
            afterFailure.toString());
        driver.resume(source);
        assertEquals(VmState.Kind.RUNNING, driver.state(source).kind());

        final VmState gone = driver.state(target);
        assertEquals(VmState.Kind.GONE, gone.kind(), gone.toString());
        assertEquals("process " + target.pid() + " exited", gone.status());
        driver.remove(target); // gone: only forgotten
        assertFalse(Files.exists(target.control()));
    }

    private long transferred(final VmHandle vm)
    {
        try
        {
            return driver.migration(vm).transferredBytes();
        }
        catch (final VmDriverException ex)
        {
            throw new AssertionError(ex.getMessage(), ex);
        }
    }

    @Test
    void aSourceKilledIsGone() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "src", 64);
        final VmHandle source = driver.adopt("g", vm.socket, vm.process.pid());
        vm.kill();

        final VmState state = driver.state(source);
        assertEquals(VmState.Kind.GONE, state.kind(), state.toString());
        assertEquals("process " + vm.process.pid() + " exited", state.status());
        assertEquals("vm g: cannot migrate: gone (process " + vm.process.pid() + " exited)",
            refused("g", () -> driver.migrate(source, "tcp:127.0.0.1:1")).getMessage());
        assertContains("cannot cont: gone", refused("g", () -> driver.resume(source)).getMessage());
        driver.remove(source);
        assertContains("not adopted by this driver", refused("g", () -> driver.state(source)).getMessage());
    }

    @Test
    void aQmpSocketThatIsGoneIsGoneOnceTheConnectionIsLost() throws Exception
    {
        final String binary = qemu();
        final Path missing = dir.resolve("missing.sock");
        assertEquals("vm s: no QMP socket at " + missing + ": no such file",
            refused("s", () -> driver.adopt("s", missing, ProcessHandle.current().pid())).getMessage());

        final QemuVm vm = vm(binary, "src", 64);
        final VmHandle handle = driver.adopt("s", vm.socket, vm.process.pid());
        Files.delete(vm.socket);
        // the connection the driver holds still drives the VM
        assertEquals(VmState.Kind.RUNNING, driver.state(handle).kind());
        driver.disconnect(handle);
        final VmState gone = driver.state(handle);
        assertEquals(VmState.Kind.GONE, gone.kind(), gone.toString());
        assertEquals("its QMP socket " + vm.socket + " is gone; process " + vm.process.pid() + " still runs",
            gone.status());
        assertTrue(vm.process.isAlive());
        driver.remove(handle); // no QMP: SIGTERM
        assertTrue(vm.process.waitFor(10, TimeUnit.SECONDS), "remove ended the process without its socket");
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void aSocketThatIsNotQmpIsRefused() throws Exception
    {
        final Path fake = dir.resolve("ssh.sock");
        try (FakeSocketServer server = new FakeSocketServer(fake, (in, out) ->
        {
            FakeSocketServer.say(out, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
            in.readLine();
        }))
        {
            assertEquals("vm x: " + fake + " does not speak QMP: its first line is 'SSH-2.0-OpenSSH_9.2p1 Debian-2'",
                refused("x", () -> driver.adopt("x", fake, ProcessHandle.current().pid())).getMessage());
        }
        final Path silent = dir.resolve("silent.sock");
        final QemuVmDriver quick = driver(Duration.ofMillis(300));
        try (FakeSocketServer server = new FakeSocketServer(silent, (in, out) -> in.readLine()))
        {
            assertContains("no QMP greeting within 300 ms",
                refused("y", () -> quick.adopt("y", silent, ProcessHandle.current().pid())).getMessage());
        }
    }

    @Test
    void aPidThatIsNotTheQemuBehindTheSocketIsRefused() throws Exception
    {
        final String binary = qemu();
        final QemuVm a = vm(binary, "a", 64);
        final QemuVm b = vm(binary, "b", 64);
        final long self = ProcessHandle.current().pid();

        assertEquals("vm p: process " + b.process.pid() + " (qemu-system-x86_64) is not the QEMU behind " + a.socket +
            ": its command line serves no monitor there (its monitor sockets: " + b.socket + ")",
            refused("p", () -> driver.adopt("p", a.socket, b.process.pid())).getMessage());
        assertContains("process " + self + " is not QEMU: its program is '",
            refused("p", () -> driver.adopt("p", a.socket, self)).getMessage());
        final long none = 4_194_304 + 17; // above Linux's largest pid_max
        assertEquals("vm p: no process " + none, refused("p", () -> driver.adopt("p", a.socket, none)).getMessage());

        // refusals leave nothing behind: the right pair is adopted after them
        assertEquals(VmState.Kind.RUNNING, driver.state(driver.adopt("p", a.socket, a.process.pid())).kind());
    }

    @Test
    void aVmAdoptedTwiceIsRefusedNamingTheFirst() throws Exception
    {
        final String binary = qemu();
        final QemuVm a = vm(binary, "a", 64);
        final QemuVm b = vm(binary, "b", 64);
        driver.adopt("first", a.socket, a.process.pid());

        assertEquals("vm second: process " + a.process.pid() + " at " + a.socket +
            " is adopted by this driver already, as vm first",
            refused("second", () -> driver.adopt("second", a.socket, a.process.pid())).getMessage());
        assertEquals("vm first: adopted by this driver already (process " + a.process.pid() + " at " + a.socket + ")",
            refused("first", () -> driver.adopt("first", b.socket, b.process.pid())).getMessage());
        // another driver cannot have it either: QEMU serves one QMP client at a time
        final QemuVmDriver other = driver(Duration.ofMillis(500));
        assertContains("another QMP client is connected",
            refused("third", () -> other.adopt("third", a.socket, a.process.pid())).getMessage());
        assertEquals(VmState.Kind.RUNNING, driver.state(driver.adopt("second", b.socket, b.process.pid())).kind());
    }

    @Test
    void aSpecThatIsNotQemusIsRefused() throws Exception
    {
        assertEquals("vm z: the spec is not a QEMU command line: its program is '/bin/sh', not qemu-system-*",
            refused("z", () -> driver.prepareIncoming("z", QemuCommandLine.join(List.of("/bin/sh", "-c", "true"))))
                .getMessage());
        final String binary = qemu();
        final VmDriverException ex = refused("z", () -> driver.prepareIncoming("z",
            QemuCommandLine.join(List.of(binary, "-no-such-option")))); // QEMU exits at once
        assertContains("the incoming copy exited before its QMP socket was there: ", ex.getMessage());
        assertContains("-no-such-option", ex.getMessage());
    }

    // ---------------------------------------------------------------- an incoming copy is a VM of its own

    @Test
    void anIncomingCopyOutlivesTheJvmThatStartedIt() throws Exception
    {
        final String binary = qemu();
        final QemuVm vm = vm(binary, "src", 64);
        final VmHandle source = driver.adopt("o", vm.socket, vm.process.pid());
        final Path specFile = dir.resolve("o.spec");
        Files.write(specFile, source.spec());

        final Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            IncomingCopyLauncher.class.getName(), dir.resolve("run").toString(), "o-in", specFile.toString())
            .redirectError(dir.resolve("launcher.err").toFile()).start();
        jvms.add(jvm);
        final BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
        final CompletableFuture<String> ready = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return out.readLine();
            }
            catch (final java.io.IOException ex)
            {
                return null;
            }
        });
        final String line = ready.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(line, () -> "the launcher said nothing: " + read(dir.resolve("launcher.err")));
        final String[] words = line.split(" ");
        assertEquals("READY", words[0], line);
        final long pid = Long.parseLong(words[1]);
        ProcessHandle.of(pid).ifPresent(copies::add);
        final ProcessHandle copy = ProcessHandle.of(pid).orElseThrow();
        assertEquals(jvm.pid(), copy.parent().map(ProcessHandle::pid).orElse(-1L), "started by the launcher's JVM");
        for (final int fd : new int[] {0, 1, 2})
        {
            final String target = Files.readSymbolicLink(Path.of("/proc", words[1], "fd", Integer.toString(fd))).toString();
            assertFalse(target.startsWith("pipe:") || target.startsWith("socket:"), "fd " + fd + " is " + target);
        }

        jvm.destroyForcibly(); // SIGKILL: no shutdown hook, no close
        assertTrue(jvm.waitFor(10, TimeUnit.SECONDS));
        assertTrue(running(pid), "the copy outlived its JVM");
        assertNotEquals(jvm.pid(), copy.parent().map(ProcessHandle::pid).orElse(-1L));

        // and it is still a working incoming copy: this driver adopts it and migrates to it
        final VmHandle target = driver.adopt("o-in", Path.of(words[3]), pid);
        assertEquals(VmState.Kind.INMIGRATE, driver.state(target).kind());
        assertArrayEquals(source.spec(), target.spec(), "the spec learnt from the copy is the one it was started from");
        driver.migrate(source, words[2]);
        assertEquals(MigrationState.COMPLETED, awaitMigration(source, MigrationState.COMPLETED).state());
        waitUntil("the copy has it", () -> kind(target) == VmState.Kind.PAUSED);
        driver.resume(target);
        driver.remove(source);
        driver.remove(target);
        assertFalse(running(pid));
    }

    /** Whether a process runs: a zombie (its parent gone, and nothing reaping it yet) does not. */
    private static boolean running(final long pid)
    {
        return ProcessHandle.of(pid).map(p -> !QemuVmDriver.exited(p)).orElse(false);
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

    // ---------------------------------------------------------------- QEMU's words

    @Test
    void qemusStatusesMapToTheSpisStates() throws Exception
    {
        assertEquals(VmState.Kind.RUNNING, QemuVmDriver.state("running").kind());
        assertEquals(VmState.Kind.PAUSED, QemuVmDriver.state("paused").kind());
        assertEquals(VmState.Kind.INMIGRATE, QemuVmDriver.state("inmigrate").kind());
        assertEquals(VmState.Kind.POSTMIGRATE, QemuVmDriver.state("postmigrate").kind());
        assertEquals(new VmState(VmState.Kind.OTHER, "finish-migrate"), QemuVmDriver.state("finish-migrate"));

        final ObjectMapper json = new ObjectMapper();
        assertEquals(MigrationStatus.NONE, QemuVmDriver.status(json.readTree("{}")));
        assertEquals(new MigrationStatus(MigrationState.COMPLETED, "completed", 136, 1, 652462, ""),
            QemuVmDriver.status(json.readTree("{\"status\": \"completed\", \"setup-time\": 1, \"downtime\": 1, " +
                "\"total-time\": 136, \"ram\": {\"total\": 67641344, \"transferred\": 652462}}")));
        assertEquals(new MigrationStatus(MigrationState.FAILED, "failed", 2000, -1, -1, "Unable to write to socket"),
            QemuVmDriver.status(json.readTree("{\"status\": \"failed\", \"total-time\": 2000, " +
                "\"error-desc\": \"Unable to write to socket\"}")));
        for (final String active : new String[] {"active", "pre-switchover", "device", "cancelling", "postcopy-active"})
        {
            assertEquals(MigrationState.ACTIVE, QemuVmDriver.status(json.readTree("{\"status\": \"" + active + "\"}")).state());
        }
        assertEquals(MigrationState.SETUP, QemuVmDriver.status(json.readTree("{\"status\": \"setup\"}")).state());
        assertEquals(MigrationState.CANCELLED, QemuVmDriver.status(json.readTree("{\"status\": \"cancelled\"}")).state());
    }
}
