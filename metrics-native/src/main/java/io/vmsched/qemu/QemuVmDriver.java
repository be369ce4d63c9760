package io.vmsched.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.vmsched.vm.MigrationState;
import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmDriver;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link VmDriver} of QEMU VMs, over each VM's QMP socket ({@link QmpClient}).
 * <p>
 * <b>Adopt.</b> The control socket is a QMP socket: the driver connects (QEMU's greeting, {@code
 * qmp_capabilities}) and asks {@code query-status}. The process must be a {@code qemu-system-*} whose command line
 * ({@code /proc/PID/cmdline}) serves that socket, by {@code -qmp unix:PATH,...} (or {@code -qmp-pretty},
 * {@code -monitor}) or by {@code -chardev socket,id=ID,path=PATH,...} used by {@code -mon chardev=ID}: that is how a
 * PID that is not the one behind the socket is told. The launch spec is that command line without the parts that
 * belong to the one instance ({@link QemuCommandLine}: the control monitor, {@code -pidfile}, {@code -daemonize},
 * {@code -incoming}, {@code -S}); everything else is kept as written, host paths included. The spec's bytes are
 * the arguments, each NUL-terminated, as in {@code /proc/PID/cmdline}.
 * <p>
 * <b>Incoming copies.</b> {@link #prepareIncoming} starts the spec's program and arguments plus {@code -qmp
 * unix:RUN_DIR/NAME.qmp,server=on,wait=off -incoming defer}, in a session of its own ({@code setsid}, where
 * there is one), stdin from {@code /dev/null}, stdout and stderr appended to {@code RUN_DIR/NAME.log}: no pipe
 * ties it to this JVM, which it outlives. Once its QMP socket takes a connection, {@code migrate-incoming
 * {"uri":"tcp:BIND:0"}} lets the kernel choose a free port, and {@code query-migrate}'s {@code socket-address}
 * says which (QEMU 7.2 reports it while it waits); the handle's incoming URI is {@code tcp:BIND:PORT}.
 * <p>
 * <b>Spares.</b> Starting that process is most of a preparation (a QEMU start: 100-300 ms), so the driver keeps
 * spares ({@link QemuSpares}): for each spec it has seen (a VM adopted, a copy prepared) up to {@code sparesPerSpec}
 * processes started ahead, {@code -S -incoming defer} with their QMP connected, at most {@code maxSpares} in all.
 * {@link #prepareIncoming} takes a live spare of the spec when there is one, so it only links the name's socket
 * path to the spare's and issues {@code migrate-incoming}; a replacement starts on the pool's thread once the copy
 * is resumed or removed (not while its migration needs the CPU), or a few seconds later. A spec that would take a
 * host endpoint or device twice ({@link QemuCommandLine#notPoolable}) gets no spare. {@link #close} quits them.
 * <p>
 * <b>A spare is nobody's copy until it is handed out</b> (the invariant recovery relies on). It is named
 * {@code RUN_DIR/.spare-TAG-N.qmp}, a name no VM's file has ({@link #fileName}). Handing it out to VM NAME first
 * makes the symbolic link {@code RUN_DIR/NAME.qmp -> .spare-TAG-N.qmp}, and only then issues {@code
 * migrate-incoming}: a spare that can receive a migration is always linked. The copy's handle names the link (its
 * control socket is {@code RUN_DIR/NAME.qmp}, as for a copy started for it), and everything that identifies a copy
 * follows the link: {@link #adopt} (the command line serves the link's target), a handle naming either path,
 * {@link #copies()} (a linked spare is NAME's copy), {@link QemuProcesses#pidServing}, recovery's kill of a copy its
 * driver cannot quit. A spare without a link is no VM's: {@link #copies()} leaves this driver's own out (the pool's)
 * and lists an earlier driver's under its spare name, a stray that recovery quits; {@link #adopt} takes a spare's
 * socket only under that name (to be removed), never under a VM's; {@link #resume} refuses one.
 * <p>
 * <b>Events.</b> The driver sets QEMU's {@code events} migration capability when it adopts a VM or starts a copy,
 * so {@link #awaitMigration} and {@link #awaitStateChange} wait for QEMU's {@code MIGRATION} event instead of
 * polling (a query before and after the wait: a lost event costs the wait, not the answer).
 * <p>
 * <b>Bounds.</b> Every QMP command waits at most the QMP timeout (one more connection is tried when
 * {@link #state} finds the old one broken); a start waits at most the start timeout for the socket; {@link #remove}
 * waits the quit timeout for the process after {@code quit} (or SIGTERM when QMP does not answer), then kills it
 * and waits up to 10 s more.
 * <p>
 * <b>One connection per VM.</b> The driver holds each VM's QMP connection from adopt to remove. QEMU serves one
 * client at a time on a QMP socket, so another client of the same socket (a {@link QemuBalloonDriver}) cannot
 * connect meanwhile: give the VM a second {@code -qmp} socket for it, or use {@link #execute}.
 * <p>
 * Threading: threadsafe. Calls for one VM are served one at a time (each VM has its lock); calls for different VMs
 * run at once. Every method may block, within the bounds above: call it from a thread of vmsched's driver, never
 * from a host's agent. Spares start on a thread of the driver's own ({@code vmsched-qemu-spares}).
 */
public final class QemuVmDriver implements VmDriver
{
    /** This driver's {@link #kind()}. */
    public static final String KIND = "qemu";
    /** The address incoming copies listen on unless configured: loopback. */
    public static final String DEFAULT_BIND = "127.0.0.1";
    /** How long an incoming copy may take to listen on its QMP socket. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);
    /** How long a process may take to exit after {@code quit} before it is killed. */
    public static final Duration DEFAULT_QUIT_TIMEOUT = Duration.ofSeconds(10);
    /** Spare incoming copies kept per spec unless configured. */
    public static final int DEFAULT_SPARES_PER_SPEC = 1;
    /** Spare incoming copies kept in all unless configured. */
    public static final int DEFAULT_MAX_SPARES = 4;
    /** After a spare is handed out, its replacement starts at the latest this long after (earlier on resume or remove). */
    static final long REPLACE_AFTER_MS = 3_000;
    /**
     * After a copy is resumed, its replacement spare starts this long after: past the handoff's commit that follows
     * (the source's quit, on a host that may share these cores); the spec's next copy here is rarely sooner.
     */
    static final long REPLACE_AFTER_RESUME_MS = 500;

    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    /** A socket that broke: how long to wait for its process to exit before calling it alive. */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(1);
    /** sun_path holds 108 bytes with its NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final String PROGRAM_PREFIX = "qemu-system-";
    private static final Path SETSID = Path.of("/usr/bin/setsid");
    private static final File DEV_NULL = new File("/dev/null");

    private final Path runDir;
    private final String bindAddress;
    private final Duration qmpTimeout;
    private final Duration startTimeout;
    private final Duration quitTimeout;
    private final Map<String, Vm> vms = new HashMap<>(); // guarded by itself, as are starting and closed
    private final Set<String> starting = new HashSet<>();
    private final Map<String, CompletableFuture<Void>> retiring = new HashMap<>(); // done once the QEMU exited
    private final Map<String, Long> migrationEnds = new java.util.concurrent.ConcurrentHashMap<>(); // QEMU's µs, by VM
    volatile Runnable beforeRetiredExit; // for tests: runs on a retirement's thread before it waits for the exit
    private boolean closed;
    private final QemuSpares spares;

    /**
     * A driver with {@link #DEFAULT_BIND}, {@link QmpClient#DEFAULT_TIMEOUT}, {@link #DEFAULT_START_TIMEOUT},
     * {@link #DEFAULT_QUIT_TIMEOUT} and the default spares; see
     * {@link #QemuVmDriver(Path, String, Duration, Duration, Duration, int, int)}.
     *
     * @param runDir where incoming copies' QMP sockets and logs go.
     */
    public QemuVmDriver(final Path runDir)
    {
        this(runDir, DEFAULT_BIND, QmpClient.DEFAULT_TIMEOUT, DEFAULT_START_TIMEOUT, DEFAULT_QUIT_TIMEOUT);
    }

    /**
     * A driver with {@link #DEFAULT_SPARES_PER_SPEC} and {@link #DEFAULT_MAX_SPARES}; see
     * {@link #QemuVmDriver(Path, String, Duration, Duration, Duration, int, int)}.
     */
    public QemuVmDriver(final Path runDir, final String bindAddress, final Duration qmpTimeout,
        final Duration startTimeout, final Duration quitTimeout)
    {
        this(runDir, bindAddress, qmpTimeout, startTimeout, quitTimeout, DEFAULT_SPARES_PER_SPEC, DEFAULT_MAX_SPARES);
    }

    /**
     * Make a driver. Starts nothing and connects nowhere until a VM is adopted or a copy prepared (then spares
     * start, on the driver's own thread).
     *
     * @param runDir       where incoming copies' QMP sockets ({@code NAME.qmp}) and logs ({@code NAME.log}) go; made
     *                     at the first {@link #prepareIncoming}. Keep it short: a socket path has at most 107 bytes.
     * @param bindAddress  the address incoming copies listen on for migrations, as sources reach it (an IP address
     *                     or a host name; not a wildcard such as 0.0.0.0, which a source cannot connect to).
     * @param qmpTimeout   the deadline of each QMP command, positive.
     * @param startTimeout how long an incoming copy may take to listen on its QMP socket, positive.
     * @param quitTimeout  how long {@link #remove} waits for a process after {@code quit} before killing it, positive.
     * @param sparesPerSpec spare incoming copies kept for each spec seen (see the class description), 0 for none.
     * @param maxSpares    spare incoming copies kept in all, whatever the specs; 0 for none.
     * @throws IllegalArgumentException with a one-line message if the address is empty or a wildcard, a duration
     *                                  is not positive, or a number of spares is negative.
     */
    public QemuVmDriver(final Path runDir, final String bindAddress, final Duration qmpTimeout,
        final Duration startTimeout, final Duration quitTimeout, final int sparesPerSpec, final int maxSpares)
    {
        this.runDir = Objects.requireNonNull(runDir, "runDir").toAbsolutePath().normalize();
        Objects.requireNonNull(bindAddress, "bindAddress");
        final String bare = bindAddress.startsWith("[") && bindAddress.endsWith("]") ?
            bindAddress.substring(1, bindAddress.length() - 1) : bindAddress;
        if (bare.isEmpty() || "0.0.0.0".equals(bare) || "::".equals(bare))
        {
            throw new IllegalArgumentException("the QEMU driver's bind address must be one a source can connect to, got '" +
                bindAddress + "'");
        }
        this.bindAddress = bare;
        this.qmpTimeout = positive("QMP timeout", qmpTimeout);
        this.startTimeout = positive("start timeout", startTimeout);
        this.quitTimeout = positive("quit timeout", quitTimeout);
        if (sparesPerSpec < 0 || maxSpares < 0)
        {
            throw new IllegalArgumentException("the QEMU driver's numbers of spares must be 0 or more, got " +
                sparesPerSpec + " per spec and " + maxSpares + " in all");
        }
        this.spares = new QemuSpares(this.runDir, sparesPerSpec, maxSpares, this.startTimeout, this::launch,
            this::quitSpare);
    }

    @Override
    public String kind()
    {
        return KIND;
    }

    /** @return where incoming copies' sockets and logs go. */
    public Path runDir()
    {
        return runDir;
    }

    /**
     * The incoming copies started on the run directory: the QEMU processes whose command line puts their QMP socket
     * there ({@code -qmp unix:RUN_DIR/NAME.qmp,...}), found in the process table, not by the socket files (a copy
     * may not have made its socket yet, or a copy that quit may have unlinked one of the same name). A spare
     * ({@code .spare-TAG-N.qmp}) that was handed out is listed as the copy of the name whose link points at it
     * ({@code RUN_DIR/NAME.qmp}, its control); one that was not is listed under its spare name if an earlier driver
     * started it (a stray: recovery quits it), and left out if it is this driver's (the pool's, nobody's copy).
     * Blocks while it reads the process table and the run directory.
     *
     * @return the copies (name, process, socket; no spec).
     */
    @Override
    public List<VmHandle> copies()
    {
        final String prefix = "unix:" + runDir + "/";
        final Map<String, String> handedOut = handedOut();
        final List<VmHandle> copies = new ArrayList<>();
        ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).forEach(p ->
        {
            final String line = p.info().commandLine().orElse("");
            if (!p.info().command().orElse("").contains(PROGRAM_PREFIX))
            {
                return; // a launcher (setsid) of one is not one
            }
            final int at = line.indexOf(prefix);
            final int end = at < 0 ? -1 : line.indexOf(".qmp,", at);
            if (end > at)
            {
                final String file = line.substring(at + prefix.length(), end);
                if (file.contains("/"))
                {
                    return;
                }
                if (!file.startsWith(QemuSpares.PREFIX))
                {
                    copies.add(new VmHandle(file, p.pid(), runDir.resolve(file + ".qmp"), new byte[0], null));
                    return;
                }
                final String vm = handedOut.get(file);
                if (null != vm)
                {
                    copies.add(new VmHandle(vm, p.pid(), runDir.resolve(vm + ".qmp"), new byte[0], null));
                }
                else if (!spares.own(file))
                {
                    copies.add(new VmHandle(file, p.pid(), runDir.resolve(file + ".qmp"), new byte[0], null));
                }
            }
        });
        return copies;
    }

    /** @return the spares handed out, by their links in the run directory: spare file name to VM file name. */
    private Map<String, String> handedOut()
    {
        final Map<String, String> links = new HashMap<>();
        try (var files = Files.newDirectoryStream(runDir, "*.qmp"))
        {
            for (final Path file : files)
            {
                if (Files.isSymbolicLink(file))
                {
                    final Path target = Files.readSymbolicLink(file);
                    final String name = target.toString();
                    if (null == target.getParent() && name.startsWith(QemuSpares.PREFIX) && name.endsWith(".qmp"))
                    {
                        final String vm = file.getFileName().toString();
                        links.put(name.substring(0, name.length() - 4), vm.substring(0, vm.length() - 4));
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            // no run directory: no copy handed out
        }
        return links;
    }

    /**
     * The spares this driver keeps, ready or starting, not handed out: nobody's copies. For tests and tools that
     * count QEMU processes: every spare process that exists when this is called is in the list (it waits for a
     * fork in progress, a few milliseconds at most).
     *
     * @return their processes.
     */
    public List<ProcessHandle> spares()
    {
        return spares.processes();
    }

    /** @return how many spares are starting now (queued or launching); does not block. */
    public int sparesStarting()
    {
        return spares.starting();
    }

    /**
     * Check the socket speaks QMP and the process is the QEMU behind it, and learn the spec; see the class
     * description. Blocks up to about three QMP timeouts (greeting, {@code qmp_capabilities},
     * {@code query-status}).
     */
    @Override
    public VmHandle adopt(final String name, final Path control, final long pid) throws VmDriverException
    {
        requireName(name);
        final Path socket = Objects.requireNonNull(control, "control").toAbsolutePath().normalize();
        awaitRetired(name);
        synchronized (vms)
        {
            requireOpen(name);
            refuseTaken(name, socket, pid);
        }
        if (!Files.exists(socket))
        {
            throw new VmDriverException(name, "no QMP socket at " + socket + ": no such file");
        }
        if (isSpare(socket) && !(name + ".qmp").equals(socket.getFileName().toString()))
        {
            // a spare reached by its own path, not by a VM's link: no VM's; only adopted as itself, to be quit
            throw new VmDriverException(name, socket + " is a spare incoming copy, no VM's: a copy made of one is " +
                "adopted by its VM's socket (RUN_DIR/NAME.qmp), a spare only as itself (" +
                socket.getFileName().toString().replace(".qmp", "") + ") to be removed");
        }
        final ProcessHandle process = ProcessHandle.of(pid).orElse(null);
        if (null == process || exited(process))
        {
            throw new VmDriverException(name, "no process " + pid);
        }
        QmpClient client = null;
        try
        {
            client = connect(name, socket);
            final List<String> args;
            try
            {
                args = QemuCommandLine.split(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")));
            }
            catch (final IOException ex)
            {
                throw new VmDriverException(name, "cannot read the command line of process " + pid + ": " + ex, ex);
            }
            final String program = program(pid, args);
            if (null == program)
            {
                throw new VmDriverException(name, "process " + pid + " is not QEMU: its program is '" +
                    (args.isEmpty() ? "" : args.get(0)) + "', not " + PROGRAM_PREFIX + "*");
            }
            final QemuCommandLine.Result line = QemuCommandLine.strip(args, socket, cwd(pid));
            if (!line.servesControl())
            {
                throw new VmDriverException(name, "process " + pid + " (" + Path.of(program).getFileName() +
                    ") is not the QEMU behind " + socket + ": its command line serves no monitor there" +
                    (line.monitorSockets().isEmpty() ? " (nor any QMP socket)" :
                    " (its monitor sockets: " + String.join(", ", line.monitorSockets()) + ")"));
            }
            execute(name, client, "query-status", null);
            final boolean events = enableEvents(client);
            final List<String> spec = new ArrayList<>(line.spec());
            spec.set(0, program);
            final VmHandle handle = new VmHandle(name, pid, socket, QemuCommandLine.join(spec), null);
            // a copy an earlier driver of this run directory made (recovery finds it again): its files are ours
            final Path spareSocket = linkTarget(socket);
            final boolean ours = runDir.equals(socket.getParent()) && socket.getFileName().toString().endsWith(".qmp");
            final Path log = !ours ? null : logOf(null != spareSocket ? spareSocket : socket);
            register(new Vm(handle, process, socket, false, log, client, spareSocket, null, events, ours));
            client = null; // the VM's now
            if (!isSpare(socket) && null == QemuCommandLine.notPoolable(spec))
            {
                spares.replenish(spec, 0); // a VM's spec seen (not a stray spare's): a copy of it may come back here
            }
            return handle;
        }
        finally
        {
            if (null != client)
            {
                client.close();
            }
        }
    }

    /**
     * Have an incoming copy of a spec listen for the migration: a spare of the spec if there is a live one, else a
     * copy started now; see the class description. Blocks a few QMP round trips with a ready spare; up to the start
     * timeout plus a few QMP timeouts when it starts a copy, and up to twice that when it first waits for a spare
     * whose process is starting and that fails. A copy that fails to get there is killed and its socket deleted (a
     * spare that fails is quit, and a copy is started instead).
     */
    @Override
    public VmHandle prepareIncoming(final String name, final byte[] spec) throws VmDriverException
    {
        requireName(name);
        final List<String> given = QemuCommandLine.split(Objects.requireNonNull(spec, "spec"));
        if (given.isEmpty() || !isQemu(given.get(0)))
        {
            throw new VmDriverException(name, "the spec is not a QEMU command line: its program is '" +
                (given.isEmpty() ? "" : given.get(0)) + "', not " + PROGRAM_PREFIX + "*");
        }
        final List<String> args = QemuCommandLine.strip(given, null, null).spec();
        final Path socket = runDir.resolve(fileName(name) + ".qmp");
        final Path log = runDir.resolve(fileName(name) + ".log");
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH)
        {
            throw new VmDriverException(name, "the QMP socket path " + socket + " is longer than " + MAX_SOCKET_PATH +
                " bytes: configure a shorter run directory");
        }
        awaitRetired(name);
        synchronized (vms)
        {
            requireOpen(name);
            refuseTaken(name, socket, -1);
            starting.add(name);
        }
        try
        {
            Files.createDirectories(runDir);
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS))
            {
                if (QemuProcesses.accepts(socket))
                {
                    throw new VmDriverException(name, "something listens at " + socket + " already (a copy of another " +
                        "driver on this run directory, or one this driver forgot): remove it first");
                }
                Files.delete(socket); // left by a copy that died (or a link to a spare that did)
            }
            final boolean poolable = null == QemuCommandLine.notPoolable(args);
            final QemuSpares.Spare spare = poolable ? spares.take(args) : null;
            VmHandle handle = null == spare ? null : handOut(name, args, socket, spare);
            if (null == handle)
            {
                handle = startCopy(name, args, socket, log);
            }
            if (poolable)
            {
                // the replacement, or a first spare of a spec seen: after the migration (resume, remove) or later
                spares.replenish(args, REPLACE_AFTER_MS);
            }
            return handle;
        }
        catch (final IOException ex)
        {
            throw new VmDriverException(name, "cannot start an incoming copy: " + ex.getMessage(), ex);
        }
        finally
        {
            synchronized (vms)
            {
                starting.remove(name);
            }
        }
    }

    /**
     * Make a spare the copy of a VM: link the VM's socket path to the spare's, then have it listen for the
     * migration. The link comes first: a spare that listens for a migration is always a VM's (the class
     * description's invariant), so a crash after this step leaves a copy of NAME that recovery finds by its link.
     *
     * @return the copy's handle, or null if the spare failed (it is quit, its link deleted): start a copy instead.
     * @throws VmDriverException if the driver closed meanwhile (the spare is quit).
     */
    private VmHandle handOut(final String name, final List<String> args, final Path socket, final QemuSpares.Spare spare)
        throws VmDriverException
    {
        boolean linked = false;
        boolean done = false;
        try
        {
            if (exited(spare.process))
            {
                return null;
            }
            Files.createSymbolicLink(socket, Path.of(spare.socket.getFileName().toString()));
            linked = true;
            final String uri;
            try
            {
                uri = listen(name, spare.client);
            }
            catch (final VmDriverException ex)
            {
                return null; // a spare that does not answer, or refuses: a copy of its own may do better
            }
            final VmHandle handle = new VmHandle(name, spare.process.pid(), socket, QemuCommandLine.join(args), uri);
            register(new Vm(handle, spare.process, socket, true, spare.log, spare.client, spare.socket, args,
                spare.events));
            done = true;
            return handle;
        }
        catch (final IOException ex)
        {
            return null; // the link could not be made: a copy of its own reports what is wrong there
        }
        finally
        {
            if (!done)
            {
                spares.discard(spare);
                if (linked)
                {
                    quietDelete(socket); // after the quit: a live spare is never left unlinked once it listens
                }
            }
        }
    }

    /** Start a copy of its own for a VM (no spare): the process, its QMP, the migration's port. */
    private VmHandle startCopy(final String name, final List<String> args, final Path socket, final Path log)
        throws VmDriverException
    {
        final Launched launched = launch(name, args, socket, log, null);
        boolean started = false;
        try
        {
            final VmHandle handle = new VmHandle(name, launched.process().pid(), socket, QemuCommandLine.join(args),
                listen(name, launched.client()));
            register(new Vm(handle, launched.process(), socket, true, log, launched.client(), null,
                null == QemuCommandLine.notPoolable(args) ? args : null, launched.events()));
            started = true;
            return handle;
        }
        finally
        {
            if (!started)
            {
                launched.client().close();
                launched.process().destroyForcibly();
                awaitExit(launched.process(), KILL_WAIT);
                quietDelete(socket);
            }
        }
    }

    /** A QEMU process started for an incoming copy or a spare, its QMP connected; events: see {@link #enableEvents}. */
    record Launched(ProcessHandle process, QmpClient client, boolean events)
    {
    }

    /**
     * Start the spec's program and arguments plus {@code -qmp unix:SOCKET,server=on,wait=off -S -incoming defer}
     * under {@code setsid}, wait until its QMP socket takes a connection, connect, and check that the PID is the
     * QEMU that serves it. One that fails on the way is killed and its socket deleted.
     *
     * @param started told the process as soon as it exists, or null.
     */
    Launched launch(final String name, final List<String> args, final Path socket, final Path log,
        final java.util.function.Consumer<ProcessHandle> started) throws VmDriverException
    {
        ProcessHandle process = null;
        QmpClient client = null;
        boolean ok = false;
        try
        {
            Files.createDirectories(runDir);
            final List<String> command = new ArrayList<>();
            if (Files.isExecutable(SETSID))
            {
                command.add(SETSID.toString()); // its own session: a signal to vmsched's process group is not the VM's
            }
            command.addAll(args);
            // -S: paused once the migration completed, until resume(): the caller runs it after its commit point
            command.addAll(List.of("-qmp", "unix:" + QemuCommandLine.escape(socket.toString()) + ",server=on,wait=off",
                "-S", "-incoming", "defer"));
            final Process child;
            try
            {
                child = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectErrorStream(true)
                    .start();
            }
            catch (final IOException ex)
            {
                throw new VmDriverException(name, "cannot start " + args.get(0) + ": " + ex.getMessage(), ex);
            }
            process = child.toHandle();
            if (null != started)
            {
                started.accept(process);
            }
            awaitSocket(name, process, socket, log);
            client = connect(name, socket);
            // setsid execs QEMU in its own process; make sure the PID is QEMU's, which serves this socket
            final List<String> running = QemuCommandLine.split(
                Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline")));
            if (!QemuCommandLine.strip(running, socket, null).servesControl())
            {
                throw new VmDriverException(name, "process " + process.pid() + " is not the QEMU started on " + socket +
                    ": its command line is " + String.join(" ", running));
            }
            final boolean events = enableEvents(client); // before migrate-incoming: the copy's end is told too
            ok = true;
            return new Launched(process, client, events);
        }
        catch (final IOException ex)
        {
            throw new VmDriverException(name, "cannot start an incoming copy: " + ex.getMessage(), ex);
        }
        finally
        {
            if (!ok)
            {
                if (null != client)
                {
                    client.close();
                }
                if (null != process)
                {
                    process.destroyForcibly();
                    awaitExit(process, KILL_WAIT);
                    quietDelete(socket);
                }
            }
        }
    }

    /**
     * {@code migrate-incoming} on a port the kernel chooses, then that port from {@code query-migrate}, both sent
     * before either reply is read: one round trip (QEMU runs them in order, and listens before it answers the first).
     *
     * @return the URI.
     */
    private String listen(final String name, final QmpClient client) throws VmDriverException
    {
        final String listen = bindAddress.indexOf(':') >= 0 ? "[" + bindAddress + "]" : bindAddress;
        final JsonNode address;
        try
        {
            final long incoming = client.send("migrate-incoming", Map.of("uri", "tcp:" + listen + ":0"));
            final long query = client.send("query-migrate");
            client.awaitReply("migrate-incoming", incoming, qmpTimeout);
            address = client.awaitReply("query-migrate", query, qmpTimeout).path("socket-address").path(0);
        }
        catch (final IOException ex)
        {
            throw new VmDriverException(name, ex.getMessage(), ex);
        }
        final String port = address.path("port").asText("");
        if (port.isEmpty() || "0".equals(port))
        {
            throw new VmDriverException(name, "QEMU did not say which port it listens on for the migration: " +
                "query-migrate answered " + address);
        }
        return "tcp:" + listen + ":" + port;
    }

    /**
     * Have QEMU send {@code MIGRATION} events ({@code migrate-set-capabilities} {@code events}), so that waits for a
     * migration's end need not poll.
     *
     * @return whether it took it (QEMU refuses while a migration runs: then the waits poll).
     */
    private static boolean enableEvents(final QmpClient client)
    {
        try
        {
            client.execute("migrate-set-capabilities", Map.of("capabilities",
                List.of(Map.of("capability", "events", "state", true))));
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /** The pool's quit of a spare no one has: {@code quit} over its connection (a signal without one), bounded waits. */
    private void quitSpare(final ProcessHandle process, final QmpClient client)
    {
        try
        {
            if (!exited(process))
            {
                boolean asked = false;
                if (null != client)
                {
                    try
                    {
                        client.execute("quit");
                        asked = true;
                    }
                    catch (final IOException ex)
                    {
                        // QEMU may close the socket before its answer; killed below if it did not take it
                    }
                }
                if (!asked || !awaitExit(process, quitTimeout))
                {
                    process.destroyForcibly(); // a spare holds no VM: nothing is lost
                    awaitExit(process, KILL_WAIT);
                }
            }
        }
        finally
        {
            if (null != client)
            {
                client.close();
            }
        }
    }

    /** QMP {@code migrate {"uri": uri}}: returns once QEMU has started it. */
    @Override
    public void migrate(final VmHandle source, final String uri) throws VmDriverException
    {
        Objects.requireNonNull(uri, "uri");
        if (uri.isBlank())
        {
            throw new VmDriverException(source.name(), "cannot migrate to an empty URI");
        }
        final Vm vm = vm(source);
        synchronized (vm)
        {
            vm.dropEvents(); // an earlier migration's (a copy's own incoming one): not this one's end
            command(vm, "migrate", Map.of("uri", uri));
        }
    }

    /**
     * The migration's status once it ended, or after the wait: with QEMU's {@code MIGRATION} events (the driver sets
     * the {@code events} capability when it adopts a VM or starts a copy), {@code query-migrate}, then a wait for an
     * event that says it ended, then {@code query-migrate} again (an event lost, or one of an earlier migration,
     * only costs the wait); without them, the SPI's 2 ms polls. Holds the VM's lock while it waits: another call
     * for the VM waits up to the timeout.
     */
    @Override
    public MigrationStatus awaitMigration(final VmHandle handle, final long timeoutNs) throws VmDriverException
    {
        final Vm vm = vm(handle);
        if (!vm.events)
        {
            return VmDriver.super.awaitMigration(handle, timeoutNs);
        }
        synchronized (vm)
        {
            final MigrationStatus status = status(command(vm, "query-migrate", null));
            if (status.state().isFinal() || timeoutNs <= 0 || !awaitMigrationEnd(vm, timeoutNs))
            {
                noteKeptEnd(vm);
                return status;
            }
            return status(command(vm, "query-migrate", null));
        }
    }

    /**
     * The copy's state once it left {@code leaving}, or after the wait: for an incoming copy leaving INMIGRATE with
     * QEMU's {@code MIGRATION} events, {@code query-status}, a wait for the event that says its migration ended
     * (QEMU sets the run state first), then {@code query-status} again; otherwise the SPI's 2 ms polls.
     */
    @Override
    public VmState awaitStateChange(final VmHandle handle, final VmState.Kind leaving, final long timeoutNs)
        throws VmDriverException
    {
        final Vm vm = vm(handle);
        if (!vm.events || leaving != VmState.Kind.INMIGRATE)
        {
            return VmDriver.super.awaitStateChange(handle, leaving, timeoutNs);
        }
        synchronized (vm)
        {
            final VmState state = state(handle);
            if (state.kind() != leaving || timeoutNs <= 0 || !awaitMigrationEnd(vm, timeoutNs))
            {
                noteKeptEnd(vm);
                return state;
            }
            return state(handle);
        }
    }

    /**
     * Under the VM's lock: wait for a {@code MIGRATION} event whose status is final.
     *
     * @return false if the wait could not be made (no connection, the VM removed): ask no more.
     */
    private boolean awaitMigrationEnd(final Vm vm, final long timeoutNs)
    {
        if (vm.removed)
        {
            return false;
        }
        final long deadline = System.nanoTime() + timeoutNs;
        try
        {
            final QmpClient client = vm.client(this);
            while (true)
            {
                final long left = deadline - System.nanoTime();
                if (left <= 0)
                {
                    return true;
                }
                final JsonNode event = client.awaitEvent("MIGRATION", Duration.ofNanos(left));
                if (isEnd(event))
                {
                    noteEnd(vm, event);
                    return true;
                }
            }
        }
        catch (final SocketTimeoutException ex)
        {
            return true; // the wait is over: asked once more
        }
        catch (final IOException ex)
        {
            vm.drop(); // the next command connects again, or finds the VM gone
            return true;
        }
    }

    /**
     * QEMU's own time of the last end of a migration this driver's waits ({@link #awaitMigration},
     * {@link #awaitStateChange}) were told of for the VM: the {@code timestamp} of QEMU's {@code MIGRATION} event
     * whose status is {@code completed}, {@code failed} or {@code cancelled}, in µs since the epoch by the clock of
     * QEMU's host. The source's and the target's, read from two drivers on one machine, say how long the target's
     * QEMU took to finish after the source's by QEMU's own clock (the benchmark {@code QemuHandoffOverhead}). Kept
     * after the VM is removed. Threading: any thread.
     *
     * @param name the VM's name (a source, or an incoming copy).
     * @return the timestamp, or -1 if no such event was seen (the capability refused, or no wait was made).
     */
    public long migrationEndMicros(final String name)
    {
        return migrationEnds.getOrDefault(name, -1L);
    }

    private static boolean isEnd(final JsonNode event)
    {
        final String status = event.path("data").path("status").asText("");
        return "completed".equals(status) || "failed".equals(status) || "cancelled".equals(status);
    }

    private void noteEnd(final Vm vm, final JsonNode event)
    {
        final JsonNode at = event.path("timestamp");
        if (at.has("seconds"))
        {
            migrationEnds.put(vm.handle.name(), at.path("seconds").asLong() * 1_000_000L + at.path("microseconds").asLong());
        }
    }

    /** Under the VM's lock: an end a wait did not take (read with a command's reply before it) is noted too. */
    private void noteKeptEnd(final Vm vm)
    {
        final QmpClient client = vm.events ? vm.currentClient() : null;
        if (null != client)
        {
            for (final JsonNode event : client.keptEvents())
            {
                if ("MIGRATION".equals(event.path("event").asText("")) && isEnd(event))
                {
                    noteEnd(vm, event);
                }
            }
        }
    }

    /** QMP {@code query-migrate}: {@code status}, {@code total-time}, {@code downtime}, {@code ram.transferred}, {@code error-desc}. */
    @Override
    public MigrationStatus migration(final VmHandle vm) throws VmDriverException
    {
        return status(command(vm(vm), "query-migrate", null));
    }

    /**
     * QMP {@code query-status}: {@code running}, {@code paused}, {@code inmigrate}, {@code postmigrate} and the
     * other QEMU run states as {@link VmState.Kind#OTHER}. {@link VmState.Kind#GONE} when the process exited, or
     * the connection broke and the socket is gone or takes no new connection (the status says which).
     */
    @Override
    public VmState state(final VmHandle handle) throws VmDriverException
    {
        final Vm vm = vm(handle);
        synchronized (vm)
        {
            final String name = vm.handle.name();
            requireAdopted(vm);
            VmState gone = gone(vm, false);
            if (null != gone)
            {
                return gone;
            }
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    return state(vm.client(this).execute("query-status").path("status").asText(""));
                }
                catch (final QmpException ex)
                {
                    throw new VmDriverException(name, ex.getMessage(), ex);
                }
                catch (final IOException ex)
                {
                    vm.drop();
                    gone = gone(vm, true);
                    if (null != gone)
                    {
                        return gone;
                    }
                    if (ex instanceof SocketTimeoutException || ex instanceof InterruptedIOException)
                    {
                        throw new VmDriverException(name, ex.getMessage(), ex); // alive and slow: not gone
                    }
                    if (attempt > 0)
                    {
                        return VmState.gone("its QMP socket " + vm.control + " takes no connection (" + ex.getMessage() +
                            "); process " + vm.handle.pid() + " still runs");
                    }
                }
            }
        }
    }

    /** QMP {@code migrate_cancel}. */
    @Override
    public void cancelMigration(final VmHandle vm) throws VmDriverException
    {
        command(vm(vm), "migrate_cancel", null);
    }

    /** QMP {@code cont}; a copy's spec gets its spare again a moment later (see the class description). */
    @Override
    public void resume(final VmHandle handle) throws VmDriverException
    {
        final Vm vm = vm(handle);
        if (isSpare(vm.control))
        {
            throw new VmDriverException(handle.name(), "a spare incoming copy is never resumed: it holds no VM");
        }
        command(vm, "cont", null);
        if (null != vm.poolSpec)
        {
            spares.replenish(vm.poolSpec, REPLACE_AFTER_RESUME_MS);
        }
    }

    /** QMP {@code stop}. */
    @Override
    public void stop(final VmHandle vm) throws VmDriverException
    {
        command(vm(vm), "stop", null);
    }

    /**
     * QMP {@code quit} (SIGTERM if QMP does not answer), wait up to the quit timeout for the process, then SIGKILL
     * and wait up to 10 s more; the driver forgets the VM, and deletes an incoming copy's socket and log.
     */
    @Override
    public void remove(final VmHandle handle) throws VmDriverException
    {
        end(handle, false);
    }

    /**
     * QMP {@code quit}, and return once it is sent: the copy is paused, and a QEMU with {@code quit} queued exits
     * without running the guest again (if this process dies first QEMU may drop it: recovery quits a committed
     * source's copy that is still there). Its answer, the wait for its exit (SIGTERM if it refused or did not answer
     * within the QMP timeout, SIGKILL past the quit timeout) and the deletion of its files go on a thread of the
     * driver's, which keeps the connection open until then; until they are done the name is
     * {@linkplain #retiring() retiring}, and an adopt or an incoming copy of that name waits for them (a copy's socket
     * path is its name's: the old QEMU unlinks it as it exits). A {@code quit} that cannot be sent is followed by
     * {@link #remove}'s SIGTERM, before this returns.
     */
    @Override
    public void retire(final VmHandle handle) throws VmDriverException
    {
        end(handle, true);
    }

    /** @return the names whose QEMU was retired and has not exited yet (or whose files are not yet deleted). */
    public Set<String> retiring()
    {
        synchronized (vms)
        {
            return Set.copyOf(retiring.keySet());
        }
    }

    private void end(final VmHandle handle, final boolean early) throws VmDriverException
    {
        final Vm vm = vm(handle);
        final String name = vm.handle.name();
        final CompletableFuture<Void> gone = new CompletableFuture<>();
        final boolean retired;
        QmpClient quitting = null; // early: the connection that sent quit, kept open until its answer
        long quitId = 0;
        synchronized (vm)
        {
            requireAdopted(vm);
            boolean asked = false;
            final boolean running = !exited(vm.process);
            if (running)
            {
                try
                {
                    if (early)
                    {
                        // sent is enough: a paused copy that has quit queued never runs again, and recovery quits a
                        // committed source's copy that is still there (QEMU drops a queued command if we die first)
                        final QmpClient client = vm.client(this);
                        quitId = client.send("quit");
                        quitting = vm.detachClient();
                    }
                    else
                    {
                        vm.client(this).execute("quit");
                    }
                    asked = true;
                }
                catch (final IOException ex)
                {
                    // QEMU may close the socket before its answer; SIGTERM below if it did not take it
                }
            }
            vm.drop();
            retired = early && asked;
            if (!retired)
            {
                if (running)
                {
                    awaitGone(vm, asked);
                }
                vm.removed = true;
                deleteFiles(vm);
            }
            else
            {
                // invariant: a name is in vms or in retiring, never both, so a new copy of it waits for this one's end
                vm.removed = true;
                synchronized (vms)
                {
                    vms.remove(name, vm);
                    retiring.put(name, gone);
                }
            }
        }
        if (!retired)
        {
            forget(vm);
            return;
        }
        final QmpClient quitClient = quitting;
        final long quitRequest = quitId;
        final Thread finisher = new Thread(() ->
        {
            try
            {
                final Runnable hook = beforeRetiredExit;
                if (null != hook)
                {
                    hook.run();
                }
                awaitGone(vm, quitAccepted(quitClient, quitRequest));
                deleteFiles(vm);
            }
            catch (final VmDriverException ex)
            {
                // nobody waits for it any more: the one line is all there is to say
                System.err.println("vmsched: " + ex.getMessage());
            }
            finally
            {
                if (null != quitClient)
                {
                    quitClient.close();
                }
                synchronized (vms)
                {
                    retiring.remove(name, gone);
                }
                gone.complete(null);
                forget(vm);
            }
        }, "qemu-retire-" + name);
        finisher.setDaemon(true);
        finisher.start();
    }

    /**
     * @return whether QEMU took the {@code quit} sent on the client: it answered, or closed the socket as it exits;
     *         false if it refused it or did not answer within the QMP timeout (then it is sent SIGTERM).
     */
    private boolean quitAccepted(final QmpClient client, final long id)
    {
        if (null == client)
        {
            return true; // sent and answered before retire returned
        }
        try
        {
            client.awaitReply("quit", id, qmpTimeout);
            return true;
        }
        catch (final QmpException | java.net.SocketTimeoutException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            return true; // the socket closed: QEMU is exiting
        }
    }

    /** @return the longest a retirement's thread takes: quit's answer, the grace after SIGTERM, the exit, the kill. */
    private Duration retirementBound()
    {
        return qmpTimeout.plus(EXIT_GRACE).plus(quitTimeout).plus(KILL_WAIT);
    }

    /** Wait for the process to exit (SIGTERM first if QEMU did not take {@code quit}), SIGKILL past the quit timeout. */
    private void awaitGone(final Vm vm, final boolean asked) throws VmDriverException
    {
        if (!asked && !awaitExit(vm.process, EXIT_GRACE))
        {
            vm.process.destroy();
        }
        if (!awaitExit(vm.process, quitTimeout))
        {
            vm.process.destroyForcibly();
            if (!awaitExit(vm.process, KILL_WAIT))
            {
                throw new VmDriverException(vm.handle.name(), "process " + vm.handle.pid() + " is still there " +
                    KILL_WAIT.toSeconds() + " s after SIGKILL");
            }
        }
    }

    private static void deleteFiles(final Vm vm)
    {
        if (vm.owned || vm.runFiles)
        {
            quietDelete(vm.control); // a copy made of a spare: the link
            quietDelete(vm.log);
            quietDelete(vm.spareSocket); // QEMU unlinks it on quit, not when killed
        }
    }

    /** The VM is gone: out of the table (if still there), and its spec's spare made again. */
    private void forget(final Vm vm)
    {
        synchronized (vms)
        {
            vms.remove(vm.handle.name(), vm);
        }
        if (null != vm.poolSpec)
        {
            spares.replenish(vm.poolSpec, 0);
        }
    }

    /**
     * Wait for a retired QEMU of the name to be gone (its exit, its files), bounded by the longest the retirement
     * takes; under no lock.
     */
    private void awaitRetired(final String name) throws VmDriverException
    {
        final CompletableFuture<Void> gone;
        synchronized (vms)
        {
            gone = retiring.get(name);
        }
        if (null == gone)
        {
            return;
        }
        try
        {
            gone.get(retirementBound().toNanos(), TimeUnit.NANOSECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new VmDriverException(name, "interrupted while its retired QEMU exits");
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            throw new VmDriverException(name, "its retired QEMU is still exiting");
        }
    }

    /**
     * Run a QMP command the SPI has no word for (e.g. {@code migrate-set-parameters} with {@code max-bandwidth})
     * over the VM's connection. Blocks up to the QMP timeout.
     *
     * @param handle    a handle of this driver's.
     * @param command   the QMP command.
     * @param arguments its arguments, or null for none.
     * @return QEMU's {@code return} value.
     * @throws VmDriverException if the VM is gone or not this driver's, or QEMU refuses or does not answer in time.
     */
    public JsonNode execute(final VmHandle handle, final String command, final Map<String, ?> arguments)
        throws VmDriverException
    {
        return command(vm(handle), command, arguments);
    }

    /**
     * The VM's balloon over this driver's connection to it ({@link QemuBalloonDriver#through}); a VM without a
     * {@code virtio-balloon} device answers NO_BALLOON. Never blocks.
     */
    @Override
    public io.vmsched.balloon.BalloonDriver balloon(final VmHandle vm)
    {
        return QemuBalloonDriver.through(this, vm);
    }

    /**
     * Close every VM's QMP connection and forget them; the VMs keep running. Wait for the retired ones to exit (see
     * {@link #retire}), and quit the spares (a spare that is starting is killed), waiting for each within the quit
     * timeout. Idempotent.
     */
    @Override
    public void close()
    {
        final List<Vm> all;
        final List<CompletableFuture<Void>> exiting;
        synchronized (vms)
        {
            closed = true;
            all = new ArrayList<>(vms.values());
            vms.clear();
            exiting = new ArrayList<>(retiring.values());
        }
        for (final CompletableFuture<Void> gone : exiting)
        {
            try
            {
                gone.get(retirementBound().toNanos(), TimeUnit.NANOSECONDS); // their files deleted too
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                break;
            }
            catch (final ExecutionException | TimeoutException ex)
            {
                // its finisher says what went wrong
            }
        }
        for (final Vm vm : all)
        {
            vm.closeClient(); // ends a call in progress at once
            synchronized (vm)
            {
                vm.removed = true;
                vm.drop();
            }
        }
        spares.close();
    }

    /** For tests: drop a VM's QMP connection, as a broken socket would. */
    void disconnect(final VmHandle handle) throws VmDriverException
    {
        final Vm vm = vm(handle);
        synchronized (vm)
        {
            vm.drop();
        }
    }

    // ---------------------------------------------------------------- the VMs

    /** An adopted VM or an incoming copy. Its QMP connection is guarded by the object's lock. */
    private static final class Vm
    {
        final VmHandle handle;
        final ProcessHandle process;
        final Path control;
        final boolean owned;
        final Path log;
        final Path spareSocket; // the socket its control links to (a copy made of a spare), else null
        final List<String> poolSpec; // a copy whose spec the pool keeps spares of, else null
        final boolean events; // QEMU sends MIGRATION events (capability set): waits need not poll
        final boolean runFiles; // its socket, log (and link) are in the run directory: removed with it
        private volatile QmpClient client; // written under the object's lock; read without it by closeClient
        boolean removed;

        Vm(final VmHandle handle, final ProcessHandle process, final Path control, final boolean owned, final Path log,
            final QmpClient client, final Path spareSocket, final List<String> poolSpec, final boolean events)
        {
            this(handle, process, control, owned, log, client, spareSocket, poolSpec, events, owned);
        }

        Vm(final VmHandle handle, final ProcessHandle process, final Path control, final boolean owned, final Path log,
            final QmpClient client, final Path spareSocket, final List<String> poolSpec, final boolean events,
            final boolean runFiles)
        {
            this.runFiles = runFiles;
            this.events = events;
            this.handle = handle;
            this.process = process;
            this.control = control;
            this.owned = owned;
            this.log = log;
            this.client = client;
            this.spareSocket = spareSocket;
            this.poolSpec = poolSpec;
        }

        /** @return the connection, made again if it was dropped. */
        QmpClient client(final QemuVmDriver driver) throws IOException
        {
            if (null == client)
            {
                client = QmpClient.connect(control, driver.qmpTimeout);
            }
            return client;
        }

        /** @return the connection, or null if there is none now (under the object's lock). */
        QmpClient currentClient()
        {
            return client;
        }

        /** Forget the events kept so far (under the object's lock). */
        void dropEvents()
        {
            if (null != client)
            {
                client.takeEvents();
            }
        }

        /** @return the connection, which the caller now owns (closes); none is left here (under the object's lock). */
        QmpClient detachClient()
        {
            final QmpClient c = client;
            client = null;
            return c;
        }

        void drop()
        {
            if (null != client)
            {
                client.close();
                client = null;
            }
        }

        /** Close the connection without the lock (QmpClient.close is threadsafe): ends a call in progress. */
        void closeClient()
        {
            final QmpClient c = client;
            if (null != c)
            {
                c.close();
            }
        }
    }

    private Vm vm(final VmHandle handle) throws VmDriverException
    {
        Objects.requireNonNull(handle, "handle");
        synchronized (vms)
        {
            requireOpen(handle.name());
            final Vm vm = vms.get(handle.name());
            if (null == vm)
            {
                throw new VmDriverException(handle.name(), "not adopted by this driver (adopt it first)");
            }
            if (vm.handle.pid() != handle.pid() || !sameSocket(vm, handle.control()))
            {
                throw new VmDriverException(handle.name(), "the handle names process " + handle.pid() + " at " +
                    handle.control() + ", this driver has process " + vm.handle.pid() + " at " + vm.control);
            }
            return vm;
        }
    }

    /** Whether a handle's socket is the VM's: its path, or for a copy made of a spare the spare's, which it links to. */
    private static boolean sameSocket(final Vm vm, final Path control)
    {
        return vm.control.equals(control) || null != vm.spareSocket && vm.spareSocket.equals(control);
    }

    private void requireAdopted(final Vm vm) throws VmDriverException
    {
        if (vm.removed)
        {
            throw new VmDriverException(vm.handle.name(), "removed from this driver" + (closed() ? " (the driver is closed)" : ""));
        }
    }

    private boolean closed()
    {
        synchronized (vms)
        {
            return closed;
        }
    }

    /** A QMP command on a VM: QEMU's refusal, a VM that is gone and a broken socket are one-line exceptions. */
    private JsonNode command(final Vm vm, final String command, final Map<String, ?> arguments) throws VmDriverException
    {
        synchronized (vm)
        {
            requireAdopted(vm);
            final String name = vm.handle.name();
            final VmState before = gone(vm, false);
            if (null != before)
            {
                throw new VmDriverException(name, "cannot " + command + ": gone (" + before.status() + ")");
            }
            try
            {
                return null == arguments ? vm.client(this).execute(command) : vm.client(this).execute(command, arguments);
            }
            catch (final QmpException ex)
            {
                throw new VmDriverException(name, ex.getMessage(), ex);
            }
            catch (final IOException ex)
            {
                vm.drop();
                final VmState gone = gone(vm, true);
                throw new VmDriverException(name, null == gone ? ex.getMessage() :
                    "cannot " + command + ": gone (" + gone.status() + ")", ex);
            }
        }
    }

    /**
     * @param broken whether the connection just broke: then wait a moment for the process to exit (its socket
     *               closes before the process is reaped), and look whether the socket file is still there.
     * @return GONE if the process exited, or the connection broke and the socket file is gone; null otherwise (a
     *         connection that works drives the VM even if its socket file was deleted).
     */
    private static VmState gone(final Vm vm, final boolean broken)
    {
        if (exited(vm.process) || (broken && awaitExit(vm.process, EXIT_GRACE)))
        {
            return VmState.gone("process " + vm.handle.pid() + " exited");
        }
        if (broken && !Files.exists(vm.control))
        {
            return VmState.gone("its QMP socket " + vm.control + " is gone; process " + vm.handle.pid() + " still runs");
        }
        return null;
    }

    /** Add a VM, unless its name, socket or process is taken (by another than its own start, for a copy). */
    private void register(final Vm vm) throws VmDriverException
    {
        synchronized (vms)
        {
            if (vm.owned)
            {
                starting.remove(vm.handle.name()); // its own reservation
            }
            try
            {
                requireOpen(vm.handle.name());
                refuseTaken(vm.handle.name(), vm.control, vm.handle.pid());
            }
            catch (final VmDriverException ex)
            {
                vm.drop();
                throw ex;
            }
            vms.put(vm.handle.name(), vm);
        }
    }

    /** Under the lock of {@link #vms}. */
    private void refuseTaken(final String name, final Path socket, final long pid) throws VmDriverException
    {
        final Vm same = vms.get(name);
        if (null != same)
        {
            throw new VmDriverException(name, "adopted by this driver already (process " + same.handle.pid() + " at " +
                same.control + ")");
        }
        if (starting.contains(name))
        {
            throw new VmDriverException(name, "an incoming copy of that name is being started by this driver");
        }
        if (retiring.containsKey(name))
        {
            throw new VmDriverException(name, "its QEMU here was retired just now and is still exiting");
        }
        for (final Vm other : vms.values())
        {
            if (other.control.equals(socket) || other.handle.pid() == pid)
            {
                throw new VmDriverException(name, "process " + other.handle.pid() + " at " + other.control +
                    " is adopted by this driver already, as vm " + other.handle.name());
            }
        }
    }

    private void requireOpen(final String name) throws VmDriverException
    {
        if (closed)
        {
            throw new VmDriverException(name, "the QEMU driver is closed");
        }
    }

    // ---------------------------------------------------------------- QMP

    private QmpClient connect(final String name, final Path socket) throws VmDriverException
    {
        try
        {
            return QmpClient.connect(socket, qmpTimeout);
        }
        catch (final IOException ex)
        {
            throw new VmDriverException(name, ex.getMessage(), ex);
        }
    }

    private static JsonNode execute(final String name, final QmpClient client, final String command,
        final Map<String, ?> arguments) throws VmDriverException
    {
        try
        {
            return null == arguments ? client.execute(command) : client.execute(command, arguments);
        }
        catch (final IOException ex)
        {
            throw new VmDriverException(name, ex.getMessage(), ex);
        }
    }

    static VmState state(final String status)
    {
        return switch (status)
        {
            case "running" -> new VmState(VmState.Kind.RUNNING, status);
            case "paused" -> new VmState(VmState.Kind.PAUSED, status);
            case "inmigrate" -> new VmState(VmState.Kind.INMIGRATE, status);
            case "postmigrate" -> new VmState(VmState.Kind.POSTMIGRATE, status);
            default -> new VmState(VmState.Kind.OTHER, status);
        };
    }

    static MigrationStatus status(final JsonNode info)
    {
        final String status = info.path("status").asText("");
        final MigrationState state = switch (status)
        {
            case "", "none" -> MigrationState.NONE;
            case "setup" -> MigrationState.SETUP;
            case "completed" -> MigrationState.COMPLETED;
            case "failed" -> MigrationState.FAILED;
            case "cancelled" -> MigrationState.CANCELLED;
            // active, pre-switchover, device, wait-unplug, cancelling, postcopy-*, colo: still under way
            default -> MigrationState.ACTIVE;
        };
        return new MigrationStatus(state, status, info.path("total-time").asLong(-1), info.path("downtime").asLong(-1),
            info.path("ram").path("transferred").asLong(-1), info.path("error-desc").asText(""));
    }

    // ---------------------------------------------------------------- processes

    /** @return the QEMU program of a command line (argv[0], or /proc/PID/exe), or null if it is not QEMU. */
    private static String program(final long pid, final List<String> args)
    {
        if (!args.isEmpty() && isQemu(args.get(0)))
        {
            return args.get(0);
        }
        try
        {
            final String exe = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe")).toString()
                .replace(" (deleted)", "");
            return isQemu(exe) ? exe : null;
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return null;
        }
    }

    private static boolean isQemu(final String program)
    {
        final Path file = Path.of(program).getFileName();
        return null != file && file.toString().startsWith(PROGRAM_PREFIX);
    }

    private static Path cwd(final long pid)
    {
        try
        {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return null; // another user's process: relative socket paths are compared as written
        }
    }

    /** Whether a process exited: gone, or a zombie its parent has not reaped (ProcessHandle calls that alive). */
    static boolean exited(final ProcessHandle process)
    {
        if (!process.isAlive())
        {
            return true;
        }
        try
        {
            final String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            final int end = stat.lastIndexOf(')'); // the command's name may hold spaces and parentheses
            return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
        }
        catch (final IOException ex)
        {
            return !process.isAlive();
        }
    }

    /** @return whether the process exited within the wait. */
    private static boolean awaitExit(final ProcessHandle process, final Duration wait)
    {
        final long deadline = System.nanoTime() + wait.toNanos();
        while (!exited(process))
        {
            final long left = deadline - System.nanoTime();
            if (left <= 0)
            {
                return false;
            }
            try
            {
                // a zombie never completes onExit: look again at least every 50 ms
                process.onExit().get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
            catch (final TimeoutException | ExecutionException ex)
            {
                // look again
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return exited(process);
            }
        }
        return true;
    }

    private void awaitSocket(final String name, final ProcessHandle process, final Path socket, final Path log)
        throws VmDriverException
    {
        final long deadline = System.nanoTime() + startTimeout.toNanos();
        // the socket file is there from QEMU's bind, a moment before its listen: wait until it takes a connection
        while (!Files.exists(socket) || !QemuProcesses.accepts(socket))
        {
            if (exited(process))
            {
                throw new VmDriverException(name, "the incoming copy exited before its QMP socket was there: " +
                    QemuProcesses.lastLine(log));
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new VmDriverException(name, "the incoming copy's QMP socket " + socket + " took no connection " +
                    "within " + startTimeout.toMillis() + " ms");
            }
            try
            {
                process.onExit().get(10, TimeUnit.MILLISECONDS);
            }
            catch (final TimeoutException | ExecutionException ex)
            {
                // look again
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new VmDriverException(name, "interrupted while the incoming copy started");
            }
        }
    }

    /** A file name for a VM's socket and log: its name if that is safe, else the safe part and a hash. */
    static String fileName(final String name)
    {
        final String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.equals(name) && !name.startsWith(".") ? name :
            safe.replaceFirst("^\\.", "_") + "-" + Integer.toHexString(name.hashCode());
    }

    /** @return whether a socket is a spare's own (its file, not a VM's link to it). */
    private static boolean isSpare(final Path socket)
    {
        return null != socket.getFileName() && socket.getFileName().toString().startsWith(QemuSpares.PREFIX);
    }

    /** @return the path a symbolic link points to (resolved against its directory), or null if it is none. */
    static Path linkTarget(final Path path)
    {
        try
        {
            return Files.isSymbolicLink(path) ? path.resolveSibling(Files.readSymbolicLink(path)).normalize() : null;
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return null;
        }
    }

    /** @return the log beside a socket of the run directory ({@code X.qmp}: {@code X.log}). */
    private static Path logOf(final Path socket)
    {
        return socket.resolveSibling(socket.getFileName().toString().replaceFirst("\\.qmp$", ".log"));
    }

    static void quietDelete(final Path file)
    {
        if (null == file)
        {
            return;
        }
        try
        {
            Files.deleteIfExists(file);
        }
        catch (final IOException ex)
        {
            // removing: nothing left to tell
        }
    }

    private static void requireName(final String name)
    {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty())
        {
            throw new IllegalArgumentException("a VM's name must not be empty");
        }
    }

    private static Duration positive(final String what, final Duration d)
    {
        if (d.isNegative() || d.isZero())
        {
            throw new IllegalArgumentException("the QEMU driver's " + what + " must be positive, got " + d);
        }
        return d;
    }
}
