package io.vmsched.aeron.registry;

import io.aeron.Aeron;
import io.aeron.CommonContext;
import io.aeron.Publication;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.client.EgressListener;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.Header;
import io.aeron.security.AuthenticationException;
import io.vmsched.aeron.AeronTransport;
import io.vmsched.load.HostCapacity;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * A node's connection to the registry: one Aeron Cluster client session. {@link #register},
 * {@link #admit}, {@link #compareAndSet}, {@link #move}, {@link #reclaim}, {@link #query},
 * {@link #report} and {@link #directory} send a command and wait for its reply, each within the
 * context's call timeout (the directory: each of its pages): they return the registry's answer or
 * throw a {@link RegistryException} of one line naming the registry's endpoints.
 * <p>
 * <b>Credentials.</b> The client proves it holds the cluster's secret ({@link Context#secret(byte[])})
 * by answering the member's challenge ({@link RegistryCredentials}). A registry that refuses them makes
 * {@link #connect} throw at once, with status {@link RegistryStatus#UNAUTHENTICATED}: no retry, no
 * waiting for the connect timeout.
 * <p>
 * The session stays alive while the owning thread calls into this client: every call, and
 * {@link #poll()} between calls, sends a keep-alive when one is due. A node whose thread stops calling
 * for longer than the registry's session timeout is declared down.
 * <p>
 * <b>Failover.</b> The client is given every member's ingress endpoint. When the leader changes, the
 * session follows the new leader (Aeron Cluster's NEW_LEADER event); if the session itself is lost (no
 * new leader in time, or the registry closed it), the next call opens a new one and registers the
 * node again under its name, getting its node id back.
 * <p>
 * <b>Outcomes that are not known.</b> A command whose reply does not come within the reply timeout,
 * or whose leader changed or session closed while it waited, may or may not have been applied. The
 * call then resolves it by itself, within its call timeout: REGISTER and QUERY are repeated; ADMIT is
 * repeated and an EXISTS naming this node at epoch 1 is its own admission; a CAS is <em>not</em>
 * blindly repeated (a CAS that already succeeded would be refused as stale, its success lost): the
 * client first QUERYs the VM through the log, and the entry says what happened: (this node, expected
 * epoch + 1, this migration) is the CAS applied, once; the expected (owner, epoch) still there means it
 * was not applied and it is sent again; anything else is a MISMATCH with that entry. A CAS is never
 * applied twice: one that succeeded moved the epoch its repetition expects. MOVE and RECLAIM are
 * resolved the same way: (this node, *, this migration) is this MOVE applied, and the same with a fence
 * at least this migration is this RECLAIM applied; otherwise, if the precondition still holds (the
 * source owns it above its fence; this node owns it), the command is sent again, else MISMATCH with
 * the entry. REPORT and DIRECTORY are repeated.
 * <p>
 * A call that throws (its call timeout passed) may still have been applied: repeat it, or
 * {@link #query} the VM, and judge by the entry.
 * <p>
 * <b>Note:</b> Not threadsafe: one thread (the node's agent, or a tool's main thread) owns a client.
 */
public final class RegistryClient implements AutoCloseable
{
    /** How long an Aeron client waits to hear from its driver before it closes itself (Aeron's default is 10 s). */
    static final long DRIVER_TIMEOUT_MS = 30_000;
    /** Message types below this are counted one by one ({@link #sentMessages(int)}); the others together under 0. */
    public static final int COUNTED_TYPES = 128;
    /** With {@link Context#driverOnCaller}, how long {@link #close} runs the driver for the session's close to go out. */
    private static final long CLOSE_DRAIN_NS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Context context;
    private final MediaDriver driver;
    // Context.driverOnCaller: the driver's and the Aeron client's duty cycles, run by the caller's waits (else null)
    private final org.agrona.concurrent.AgentInvoker driverInvoker;
    private org.agrona.concurrent.AgentInvoker clientInvoker; // replaced with the Aeron client
    private Aeron aeron; // replaced if it closes itself (its driver unheard of for the driver timeout: a starved machine)
    private final String aeronDir;
    private AeronCluster cluster;
    private final ExpandableArrayBuffer sendBuffer = new ExpandableArrayBuffer(256);
    private final RegistryMessages.Register register = new RegistryMessages.Register();
    private final RegistryMessages.Admit admit = new RegistryMessages.Admit();
    private final RegistryMessages.Cas cas = new RegistryMessages.Cas();
    private final RegistryMessages.Query query = new RegistryMessages.Query();
    private final RegistryMessages.Move move = new RegistryMessages.Move();
    private final RegistryMessages.Release release = new RegistryMessages.Release();
    private int replyDirectoryVersion;
    private int replyPlacementVersion;
    private int reportedPlacementVersion;
    private String replyReason = "";
    private final List<String> replyStatements = new ArrayList<>();
    private int replyStatementsTotal;
    private final RegistryMessages.Place place = new RegistryMessages.Place();
    private final RegistryMessages.Placed placed = new RegistryMessages.Placed();
    private final RegistryMessages.PlacementRead placementRead = new RegistryMessages.PlacementRead();
    private final RegistryMessages.PlacementPage placementPage = new RegistryMessages.PlacementPage();
    private final RegistryMessages.Reclaim reclaim = new RegistryMessages.Reclaim();
    private final RegistryMessages.Report report = new RegistryMessages.Report();
    private final RegistryMessages.Directory directory = new RegistryMessages.Directory();
    private final RegistryMessages.Registered registered = new RegistryMessages.Registered();
    private final RegistryMessages.Owner owner = new RegistryMessages.Owner();
    private final RegistryMessages.Reported reported = new RegistryMessages.Reported();
    private final RegistryMessages.DirectoryPage directoryPage = new RegistryMessages.DirectoryPage();
    private final RegistryMessages.DirectoryNode directoryNode = new RegistryMessages.DirectoryNode();
    private final RegistryMessages.NodeDown nodeDown = new RegistryMessages.NodeDown();
    private final RegistryMessages.ServiceChange serviceChange = new RegistryMessages.ServiceChange();
    private final IdleStrategy idleStrategy; // the context's, running the driver first with driverOnCaller
    private long nextCorrelationId = 1;
    private int sendLength;
    private long awaitedCorrelationId;
    private boolean replied;
    private RegistryStatus replyStatus;
    private int replyNodeId;
    private Ownership replyOwnership;
    private final List<NodeInfo> replyNodes = new ArrayList<>();
    private int replyNextAfterId;
    private long lastSendNs;
    private int nodeId = RegistryState.NO_NODE;
    private boolean closed;
    private boolean leaderChanged;
    private String registeredName;
    private String registeredEndpoint;
    private HostCapacity registeredCapacity;
    private String registeredLabels;
    private int repliesToDrop;
    private Runnable onUnknownOutcome = () -> { };
    private long unknownOutcomes;
    private long newSessions;
    private long leaderChanges;
    // traffic by message type, counted by the owning thread
    private final long[] sentMessages = new long[COUNTED_TYPES];
    private final long[] sentBytes = new long[COUNTED_TYPES];
    private final long[] receivedMessages = new long[COUNTED_TYPES];
    private final long[] receivedBytes = new long[COUNTED_TYPES];
    private long keepAlives;

    private RegistryClient(final Context context)
    {
        this.context = context;
        MediaDriver startedDriver = null;
        Aeron startedAeron = null;
        AeronCluster connected = null;
        org.agrona.concurrent.AgentInvoker invoker = null;
        try
        {
            String dir = context.aeronDirectoryName;
            if (null == dir)
            {
                startedDriver = MediaDriver.launch(new MediaDriver.Context()
                    .aeronDirectoryName(CommonContext.getAeronDirectoryName() + "-vmsched-registry-client-" + UUID.randomUUID())
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .threadingMode(context.driverOnCaller ? ThreadingMode.INVOKER : ThreadingMode.SHARED)
                    .clientLivenessTimeoutNs(TimeUnit.MILLISECONDS.toNanos(DRIVER_TIMEOUT_MS))
                    .publicationUnblockTimeoutNs(TimeUnit.MILLISECONDS.toNanos(DRIVER_TIMEOUT_MS * 3 / 2)) // must exceed it
                    .sharedIdleStrategy(io.vmsched.dispatch.Idle.messages())
                    .termBufferSparseFile(true)
                    // a session's ingress and egress need a few counters: Aeron's least, 1 MiB (11 MB of cnc.dat, not 47)
                    .counterValuesBufferLength(1 << 20)
                    .publicationTermBufferLength(64 * 1024)
                    .ipcTermBufferLength(64 * 1024)
                    .printConfigurationOnStart(false)
                    .errorHandler(ex -> context.log.accept("registry client: media driver: " + oneLine(ex))));
                dir = startedDriver.aeronDirectoryName();
                invoker = startedDriver.sharedAgentInvoker(); // null unless INVOKER
                if (null != invoker && !invoker.isStarted())
                {
                    invoker.start();
                }
            }
            driverInvoker = invoker;
            // every wait of this client runs the driver and the Aeron client first, when they are the caller's to run
            idleStrategy = null == invoker ? context.idleStrategy : new InvokingIdle(context.idleStrategy);
            startedAeron = aeronClient(dir);
            clientInvoker = null == invoker ? null : startedAeron.conductorAgentInvoker();
            connected = connect(startedAeron, context.connectTimeoutNs);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(connected, startedAeron, startedDriver);
            throw ex;
        }
        driver = startedDriver;
        aeron = startedAeron;
        aeronDir = startedAeron.context().aeronDirectoryName();
        cluster = connected;
        lastSendNs = System.nanoTime();
    }

    /**
     * The caller's idle strategy, with a duty cycle of the driver and the Aeron client before each idle
     * ({@link Context#driverOnCaller}): the thread that waits for the registry is the one that sends and receives.
     */
    private final class InvokingIdle implements IdleStrategy
    {
        private final IdleStrategy delegate;

        InvokingIdle(final IdleStrategy delegate)
        {
            this.delegate = delegate;
        }

        @Override
        public void idle(final int workCount)
        {
            delegate.idle(workCount + runDriver());
        }

        @Override
        public void idle()
        {
            delegate.idle(runDriver());
        }

        @Override
        public void reset()
        {
            delegate.reset();
        }
    }

    /** @return the work of one duty cycle of the driver and the Aeron client, when this client runs them (else 0). */
    private int runDriver()
    {
        int work = 0;
        if (null != driverInvoker)
        {
            final java.util.concurrent.locks.Lock lock = null == aeron ? null : aeron.context().clientLock();
            // invariant: one thread at a time runs the driver; a client call awaiting it runs it under this lock
            if (null == lock || lock.tryLock())
            {
                try
                {
                    work += driverInvoker.invoke();
                }
                finally
                {
                    if (null != lock)
                    {
                        lock.unlock();
                    }
                }
            }
        }
        final org.agrona.concurrent.AgentInvoker conductor = clientInvoker;
        if (null != conductor)
        {
            work += conductor.invoke();
        }
        return work;
    }

    /**
     * Connect to the registry, retrying (a cluster electing its leader refuses sessions) until the
     * context's connect timeout.
     *
     * @param context the configuration (concluded here).
     * @return a connected client.
     * @throws RegistryException in one line if no member answered in time, or at once if the registry
     *         refused the client's credentials (status {@link RegistryStatus#UNAUTHENTICATED}).
     * @throws IllegalArgumentException in one line if the context gives no members, or no secret (and
     *         not {@link Context#insecureForTests()}).
     */
    public static RegistryClient connect(final Context context)
    {
        return new RegistryClient(context.conclude());
    }

    private AeronCluster connect(final Aeron aeron, final long timeoutNs)
    {
        final long deadline = System.nanoTime() + timeoutNs;
        String lastError = "no answer";
        while (System.nanoTime() - deadline < 0)
        {
            final AeronCluster.Context clusterContext = new AeronCluster.Context()
                .aeron(aeron)
                .ownsAeronClient(false)
                .ingressChannel("aeron:udp?term-length=64k")
                .ingressEndpoints(context.members)
                .egressChannel("aeron:udp?term-length=64k|endpoint=" + context.egressHost + ":0")
                .messageTimeoutNs(Math.max(TimeUnit.MILLISECONDS.toNanos(100), deadline - System.nanoTime()))
                .idleStrategy(new SleepingMillisIdleStrategy(1))
                .egressListener(new Listener())
                .errorHandler(ex -> context.log.accept("registry client: " + oneLine(ex)));
            if (null != context.secret)
            {
                clusterContext.credentialsSupplier(new RegistryCredentials(context.secret));
            }
            try (AeronCluster.AsyncConnect async = AeronCluster.asyncConnect(clusterContext))
            {
                AeronCluster connected;
                while (null == (connected = async.poll()))
                {
                    idleStrategy.idle();
                }
                return connected;
            }
            catch (final AuthenticationException ex)
            {
                // a refusal is an answer: trying again with the same credentials would only be refused again
                throw new RegistryException("the registry at " + context.members + " refused this client's credentials (" +
                    firstWords(oneLine(ex)) + "): " + (null == context.secret ? "it has no cluster secret" :
                    "its cluster secret is not the registry's"), RegistryStatus.UNAUTHENTICATED);
            }
            catch (final RuntimeException ex)
            {
                lastError = oneLine(ex);
                sleepMs(50);
            }
        }
        throw new RegistryException("cannot reach the registry at " + context.members + " within " +
            TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms (" + firstWords(lastError) + ")", null);
    }

    /**
     * Register this client's session as node {@code name}.
     *
     * @param name     the node's name.
     * @param endpoint its data-plane endpoint, {@code host:port}.
     * @param capacity its capacity.
     * @param labels   free text, may be empty.
     * @return its node id (the same id when a down node's name comes back).
     * @throws RegistryException in one line: refused (the name taken by a live node...) or no answer.
     */
    public int register(final String name, final String endpoint, final HostCapacity capacity, final String labels)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "REGISTER of '" + name + "'";
        do
        {
            ensureSession(what, deadline);
        }
        while (!attempt(encodeRegister(name, endpoint, capacity, labels), what, deadline));
        if (RegistryStatus.OK != replyStatus)
        {
            throw new RegistryException("the registry at " + context.members + " refused node '" + name + "': " +
                replyStatus.description(), replyStatus);
        }
        nodeId = replyNodeId;
        registeredName = name;
        registeredEndpoint = endpoint;
        registeredCapacity = capacity;
        registeredLabels = labels;
        return nodeId;
    }

    private long encodeRegister(final String name, final String endpoint, final HostCapacity capacity, final String labels)
    {
        final long correlationId = nextCorrelationId++;
        sendLength = register.wrap(sendBuffer, 0).correlationId(correlationId)
            .capacity(capacity.cores(), capacity.coreSpeed(), capacity.ioBytesPerSecond(), capacity.memoryBytes())
            .strings(utf8(name), utf8(endpoint), utf8(labels));
        return correlationId;
    }

    /**
     * ADMIT: give an absent VM to this client's node at epoch 1.
     *
     * @param vmId the VM.
     * @return the entry after the command: OK, or EXISTS with the VM's owner (NOT_REGISTERED before
     *         {@link #register}).
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership admit(final long vmId)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "ADMIT of vm " + vmId;
        boolean repeated = false;
        while (true)
        {
            ensureSession(what, deadline);
            final long correlationId = nextCorrelationId++;
            sendLength = admit.wrap(sendBuffer, 0).correlationId(correlationId).set(vmId, nodeId);
            if (attempt(correlationId, what, deadline))
            {
                final Ownership reply = replyOwnership;
                // a repetition of an admission that was applied finds its own entry
                if (repeated && RegistryStatus.EXISTS == reply.status() && reply.owner() == nodeId &&
                    1 == reply.epoch() && 0 == reply.migrationId())
                {
                    return reply.withStatus(RegistryStatus.OK);
                }
                return reply;
            }
            repeated = true;
        }
    }

    /**
     * CAS: take {@code vm} for this client's node if it still is {@code (expectOwner, expectEpoch)}.
     *
     * @param vmId        the VM.
     * @param expectOwner the owner expected.
     * @param expectEpoch the epoch expected.
     * @param migrationId the migration this completes (a target) or reclaims (a source).
     * @return the entry after the command: OK and (this node, expectEpoch + 1, migrationId), or MISMATCH
     *         and the entry as it is, or ABSENT.
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership compareAndSet(final long vmId, final int expectOwner, final long expectEpoch, final long migrationId)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "CAS of vm " + vmId;
        boolean unknown = false;
        while (true)
        {
            ensureSession(what, deadline);
            if (unknown)
            {
                // the last attempt may have been applied: never repeat it blindly (a CAS that succeeded is
                // refused as stale when repeated); ask the log, which orders this QUERY after it
                final Ownership entry = queryUntil(vmId, deadline, what);
                if (isOwnCas(entry, expectEpoch, migrationId))
                {
                    return entry; // applied once, its reply lost
                }
                if (RegistryStatus.OK != entry.status() || entry.owner() != expectOwner || entry.epoch() != expectEpoch)
                {
                    return entry.withStatus(RegistryStatus.OK == entry.status() ? RegistryStatus.MISMATCH : entry.status());
                }
                ensureSession(what, deadline);
            }
            final long correlationId = nextCorrelationId++;
            sendLength = cas.wrap(sendBuffer, 0).correlationId(correlationId)
                .set(vmId, expectOwner, expectEpoch, nodeId, migrationId);
            if (attempt(correlationId, what, deadline))
            {
                final Ownership reply = replyOwnership;
                // a CAS sent again may meet the first one's entry (applied after the QUERY looked)
                return unknown && RegistryStatus.MISMATCH == reply.status() && isOwnCas(reply, expectEpoch, migrationId) ?
                    reply.withStatus(RegistryStatus.OK) : reply;
            }
            unknown = true;
        }
    }

    private boolean isOwnCas(final Ownership entry, final long expectEpoch, final long migrationId)
    {
        return entry.owner() == nodeId && entry.epoch() == expectEpoch + 1 && entry.migrationId() == migrationId &&
            (RegistryStatus.OK == entry.status() || RegistryStatus.MISMATCH == entry.status());
    }

    /**
     * MOVE: the commit point of a handoff, called by its target. Take {@code vm} for this client's node
     * if {@code fromNode} still owns it and has not fenced off {@code migrationId} (by a RECLAIM of it or
     * of a later migration).
     *
     * @param vmId        the VM.
     * @param fromNode    the source, the owner expected (not this node).
     * @param migrationId the migration this completes (at least 1; a source's ids strictly grow).
     * @return the entry after the command: OK and (this node, epoch + 1, migrationId, fence 0); or MISMATCH
     *         and the entry as it is (the source reclaimed it, or someone else owns it); or ABSENT,
     *         NOT_REGISTERED, MALFORMED.
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership move(final long vmId, final int fromNode, final long migrationId)
    {
        return move(vmId, fromNode, migrationId, 0);
    }

    /**
     * MOVE, starting this node's tenure with its own fence ({@link RegistryState#move(long, long, int, long, long)}).
     *
     * @param vmId        the VM.
     * @param fromNode    the source.
     * @param migrationId the migration (at least 1).
     * @param tenureFence this node's highest migration id so far (0 if none).
     * @return as {@link #move(long, int, long)}.
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership move(final long vmId, final int fromNode, final long migrationId, final long tenureFence)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "MOVE of vm " + vmId + " from node " + fromNode + " (migration " + migrationId + ")";
        boolean unknown = false;
        while (true)
        {
            ensureSession(what, deadline);
            if (unknown)
            {
                // as for a CAS: a MOVE that was applied would be refused if repeated; the log says what happened
                final Ownership entry = queryUntil(vmId, deadline, what);
                if (isOwnMove(entry, migrationId))
                {
                    return entry; // applied once, its reply lost
                }
                if (RegistryStatus.OK != entry.status() || entry.owner() != fromNode || migrationId <= entry.fence())
                {
                    return entry.withStatus(RegistryStatus.OK == entry.status() ? RegistryStatus.MISMATCH : entry.status());
                }
                ensureSession(what, deadline);
            }
            final long correlationId = nextCorrelationId++;
            sendLength = move.wrap(sendBuffer, 0).correlationId(correlationId).set(vmId, fromNode, migrationId, tenureFence);
            if (attempt(correlationId, what, deadline))
            {
                final Ownership reply = replyOwnership;
                // a MOVE sent again may meet the first one's entry (applied after the QUERY looked)
                return unknown && RegistryStatus.MISMATCH == reply.status() && isOwnMove(reply, migrationId) ?
                    reply.withStatus(RegistryStatus.OK) : reply;
            }
            unknown = true;
        }
    }

    private boolean isOwnMove(final Ownership entry, final long migrationId)
    {
        return entry.owner() == nodeId && entry.migrationId() == migrationId &&
            (RegistryStatus.OK == entry.status() || RegistryStatus.MISMATCH == entry.status());
    }

    /**
     * RELEASE: this node removed {@code vm}; its entry goes. Repeated after an unknown outcome (an
     * entry that is gone, or names another owner, is not this node's to release any more).
     *
     * @param vmId the VM.
     * @return OK, or MISMATCH (another node owns it), ABSENT (no entry, or released already).
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership release(final long vmId)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "RELEASE of vm " + vmId;
        while (true)
        {
            ensureSession(what, deadline);
            final long correlationId = nextCorrelationId++;
            sendLength = release.wrap(sendBuffer, 0).correlationId(correlationId).set(vmId);
            if (attempt(correlationId, what, deadline))
            {
                return replyOwnership;
            }
        }
    }

    /**
     * RECLAIM: a source whose migration did not finish keeps {@code vm} and fences {@code migrationId}
     * off: its target's MOVE of it (or of an earlier migration) fails from now on.
     *
     * @param vmId        the VM.
     * @param migrationId the migration given up (at least 1).
     * @return the entry after the command: OK and (this node, epoch + 1, migrationId, fence at least
     *         migrationId); or MISMATCH and the entry as it is: (target, *, migrationId) means the target's
     *         MOVE came first (the migration committed), anything else that someone else took it; or
     *         ABSENT, NOT_REGISTERED, MALFORMED.
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership reclaim(final long vmId, final long migrationId)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "RECLAIM of vm " + vmId + " (migration " + migrationId + ")";
        boolean unknown = false;
        while (true)
        {
            ensureSession(what, deadline);
            if (unknown)
            {
                // a RECLAIM repeated after it was applied would apply again (a second epoch): ask the log first
                final Ownership entry = queryUntil(vmId, deadline, what);
                if (isOwnReclaim(entry, migrationId))
                {
                    return entry;
                }
                if (RegistryStatus.OK != entry.status() || entry.owner() != nodeId)
                {
                    return entry.withStatus(RegistryStatus.OK == entry.status() ? RegistryStatus.MISMATCH : entry.status());
                }
                ensureSession(what, deadline);
            }
            final long correlationId = nextCorrelationId++;
            sendLength = reclaim.wrap(sendBuffer, 0).correlationId(correlationId).set(vmId, migrationId);
            if (attempt(correlationId, what, deadline))
            {
                return replyOwnership;
            }
            unknown = true;
        }
    }

    private boolean isOwnReclaim(final Ownership entry, final long migrationId)
    {
        return RegistryStatus.OK == entry.status() && entry.owner() == nodeId && entry.migrationId() == migrationId &&
            entry.fence() >= migrationId;
    }

    /**
     * REPORT: this client's node's load, kept by the registry (with the cluster time it came at) and
     * shown by {@link #directory()} until the next report.
     *
     * @param load    the node's load (finite, at least 0).
     * @param vmCount how many VMs it runs (at least 0).
     * @return the directory's version: it changes when a node registers, comes back or goes down, so a
     *         node need read {@link #directory()} again only when it changed.
     * @throws RegistryException in one line: refused (NOT_REGISTERED before {@link #register}, MALFORMED)
     *         or no answer.
     */
    public int report(final double load, final int vmCount)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "REPORT of node " + nodeId;
        long correlationId;
        do
        {
            ensureSession(what, deadline);
            correlationId = nextCorrelationId++;
            sendLength = report.wrap(sendBuffer, 0).correlationId(correlationId).set(load, vmCount);
        }
        while (!attempt(correlationId, what, deadline)); // a report repeated is the same report, a little later
        if (RegistryStatus.OK != replyStatus)
        {
            throw new RegistryException("the registry at " + context.members + " refused the load report (" + load +
                ", " + vmCount + " VMs) of node " + nodeId + ": " + replyStatus.description(), replyStatus);
        }
        return replyDirectoryVersion;
    }

    /**
     * DIRECTORY: every node the registry knows, up or down, in id order, read a page at a time (a page
     * is at most {@link RegistryMessages.DirectoryPage#MAX_LENGTH} bytes: some 40 to 80 nodes with
     * short strings, at least 4 with the longest ones). Each page is one point of the registry's log,
     * each within the call timeout; the list is not one atomic cut of a directory changing meanwhile,
     * but lists every node registered before the call once (ids are never reused or removed). Meant
     * for a directory of up to a few thousand nodes.
     *
     * @return the nodes.
     * @throws RegistryException in one line if the registry refused or did not answer a page in time.
     */
    public List<NodeInfo> directory()
    {
        final List<NodeInfo> nodes = new ArrayList<>();
        int afterId = 0;
        while (true)
        {
            final long deadline = System.nanoTime() + context.callTimeoutNs;
            final String what = "DIRECTORY after node " + afterId;
            long correlationId;
            do
            {
                ensureSession(what, deadline);
                correlationId = nextCorrelationId++;
                sendLength = directory.wrap(sendBuffer, 0).correlationId(correlationId).set(afterId);
            }
            while (!attempt(correlationId, what, deadline));
            if (RegistryStatus.OK != replyStatus)
            {
                throw new RegistryException("the registry at " + context.members + " refused " + what + ": " +
                    replyStatus.description(), replyStatus);
            }
            nodes.addAll(replyNodes);
            if (0 == replyNextAfterId)
            {
                return Collections.unmodifiableList(nodes);
            }
            if (replyNextAfterId <= afterId || replyNodes.isEmpty())
            {
                throw new RegistryException("the registry at " + context.members + " answered " + what +
                    " with a page that does not move on (next after " + replyNextAfterId + ")", RegistryStatus.MALFORMED);
            }
            afterId = replyNextAfterId;
        }
    }

    /**
     * PLACE: apply placement statements (services, memberships, rules: {@link io.vmsched.placement.Placement#submit})
     * as one change, checked by the registry against its own state. A repetition after an unknown outcome
     * that the registry refuses is accepted when the placement already holds every statement (the first
     * attempt applied them).
     *
     * @param statements the statements, in order.
     * @return the placement's version after the change.
     * @throws IllegalArgumentException if they are too long for one message (apply them in parts).
     * @throws RegistryException in one line: refused (status REFUSED, with the registry's reason) or no answer.
     */
    public int place(final List<String> statements)
    {
        final byte[] text = utf8(String.join("\n", statements));
        if (RegistryMessages.Place.BLOCK_LENGTH + text.length > RegistryMessages.Place.MAX_LENGTH)
        {
            throw new IllegalArgumentException("a placement change of " + text.length + " bytes is longer than one " +
                "registry message (" + (RegistryMessages.Place.MAX_LENGTH - RegistryMessages.Place.BLOCK_LENGTH) +
                "): apply it in parts");
        }
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        final String what = "PLACE of " + statements.size() + " statements";
        boolean repeated = false;
        while (true)
        {
            ensureSession(what, deadline);
            final long correlationId = nextCorrelationId++;
            sendLength = place.wrap(sendBuffer, 0).correlationId(correlationId).set(text);
            if (attempt(correlationId, what, deadline))
            {
                break;
            }
            repeated = true;
        }
        if (RegistryStatus.OK == replyStatus)
        {
            return replyPlacementVersion;
        }
        final RegistryStatus refused = replyStatus;
        final String reason = replyReason;
        if (repeated && RegistryStatus.REFUSED == refused)
        {
            final PlacementCopy now = placement();
            if (now.holds(statements))
            {
                return now.version();
            }
        }
        throw new RegistryException("the registry refused the placement change: " + reason, refused);
    }

    /**
     * PLACEMENT: the registry's placement (its statements, a page at a time; read again from the start if
     * it changed meanwhile, so the copy is one version of it).
     *
     * @return the statements with their version.
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public PlacementCopy placement()
    {
        while (true)
        {
            final List<String> statements = new ArrayList<>();
            int version = -1;
            boolean changed = false;
            while (!changed)
            {
                final long deadline = System.nanoTime() + context.callTimeoutNs;
                final String what = "PLACEMENT from statement " + statements.size();
                long correlationId;
                do
                {
                    ensureSession(what, deadline);
                    correlationId = nextCorrelationId++;
                    sendLength = placementRead.wrap(sendBuffer, 0).correlationId(correlationId).set(statements.size());
                }
                while (!attempt(correlationId, what, deadline));
                if (RegistryStatus.OK != replyStatus)
                {
                    throw new RegistryException("the registry at " + context.members + " refused " + what + ": " +
                        replyStatus.description(), replyStatus);
                }
                changed = version >= 0 && version != replyPlacementVersion;
                version = replyPlacementVersion;
                statements.addAll(replyStatements);
                if (!changed && (statements.size() >= replyStatementsTotal || replyStatements.isEmpty()))
                {
                    return new PlacementCopy(version, List.copyOf(statements));
                }
            }
        }
    }

    /** @return the placement version the last REPORT's reply carried (a node reads the placement again when it moved). */
    public int reportedPlacementVersion()
    {
        return reportedPlacementVersion;
    }

    /**
     * The registry's placement at one version. Immutable.
     *
     * @param version    the version.
     * @param statements the statements that recreate it.
     */
    public record PlacementCopy(int version, List<String> statements)
    {
        /**
         * @param change statements.
         * @return whether applying them would change nothing (each is in effect already).
         */
        public boolean holds(final List<String> change)
        {
            final io.vmsched.placement.Placement copy = new io.vmsched.placement.Placement();
            try
            {
                copy.replaceWith(statements);
                for (final String statement : change)
                {
                    copy.replay(statement);
                }
            }
            catch (final IllegalArgumentException ex)
            {
                return false;
            }
            return copy.statements().equals(statements);
        }
    }

    /**
     * QUERY: who owns {@code vm}. Linearizable: it goes through the log like every command.
     *
     * @param vmId the VM.
     * @return OK and its entry, or ABSENT.
     * @throws RegistryException in one line if the registry did not answer in time.
     */
    public Ownership query(final long vmId)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        return queryUntil(vmId, deadline, "QUERY of vm " + vmId);
    }

    private Ownership queryUntil(final long vmId, final long deadline, final String what)
    {
        while (true)
        {
            ensureSession(what, deadline);
            final long correlationId = nextCorrelationId++;
            sendLength = query.wrap(sendBuffer, 0).correlationId(correlationId).set(vmId);
            if (attempt(correlationId, what, deadline))
            {
                return replyOwnership;
            }
        }
    }

    /**
     * Send a raw command (tests of malformed input): the reply's status.
     *
     * @param buffer        the command.
     * @param length        its length.
     * @param correlationId the correlation id written in it.
     * @return the reply's status.
     */
    RegistryStatus callRaw(final DirectBuffer buffer, final int length, final long correlationId)
    {
        final long deadline = System.nanoTime() + context.callTimeoutNs;
        do
        {
            ensureSession("a raw command", deadline);
            sendBuffer.putBytes(0, buffer, 0, length);
            sendLength = length;
        }
        while (!attempt(correlationId, "a raw command", deadline));
        return replyStatus;
    }

    /**
     * Tests: drop the next {@code count} replies as if the network lost them.
     *
     * @param count how many.
     */
    void dropReplies(final int count)
    {
        repliesToDrop = count;
    }

    /**
     * Tests: run {@code action} on the client's thread each time an attempt's outcome is found unknown,
     * before the call resolves it (e.g. kill the leader there).
     *
     * @param action the action.
     */
    void onUnknownOutcome(final Runnable action)
    {
        onUnknownOutcome = action;
    }

    /** @return the member this client last knew as the registry's leader, -1 if not connected. */
    public int leaderMemberId()
    {
        return null == cluster ? -1 : cluster.leaderMemberId();
    }

    /** @return attempts whose outcome was not known (no reply in time, a new leader, a lost session). */
    public long unknownOutcomes()
    {
        return unknownOutcomes;
    }

    /** @return NEW_LEADER events this session followed. */
    public long leaderChanges()
    {
        return leaderChanges;
    }

    /**
     * @param type a command's type ({@link RegistryMessages#REPORT}...; 0: every type at or above {@link #COUNTED_TYPES}).
     * @return commands of that type sent (each attempt: a repetition after an unknown outcome counts again).
     *         The owning thread's figure: read it on that thread.
     */
    public long sentMessages(final int type)
    {
        return sentMessages[type];
    }

    /**
     * @param type a command's type, as {@link #sentMessages(int)}.
     * @return their bytes (Aeron Cluster puts a 32-byte session header before each).
     */
    public long sentBytes(final int type)
    {
        return sentBytes[type];
    }

    /**
     * @param type a reply's or an event's type ({@link RegistryMessages#DIRECTORY_PAGE}...), as {@link #sentMessages(int)}.
     * @return the messages of that type that came from the registry (late replies included).
     */
    public long receivedMessages(final int type)
    {
        return receivedMessages[type];
    }

    /**
     * @param type a reply's type, as {@link #receivedMessages(int)}.
     * @return their bytes.
     */
    public long receivedBytes(final int type)
    {
        return receivedBytes[type];
    }

    /** @return session keep-alives sent (between commands, when none was sent for the keep-alive interval). */
    public long keepAlives()
    {
        return keepAlives;
    }

    /** @return the system counters of this client's media driver by label ("Bytes sent"...), Aeron's own frames included. */
    public Map<String, Long> driverCounters()
    {
        return AeronTransport.systemCounters(aeron);
    }

    private static int counted(final int type)
    {
        return type > 0 && type < COUNTED_TYPES ? type : 0;
    }

    /** @return sessions opened after the first (the first one lost). */
    public long newSessions()
    {
        return newSessions;
    }

    /**
     * Between calls: read events and send a keep-alive when one is due. Call it at least every
     * {@link Context#keepAliveInterval}.
     *
     * @return the number of egress fragments read.
     */
    public int poll()
    {
        if (cluster.isClosed())
        {
            ensureSession("a keep-alive", System.nanoTime() + context.callTimeoutNs);
        }
        final int fragments = cluster.pollEgress() + runDriver();
        keepAliveIfDue();
        return fragments;
    }

    /** @return this client's node id, 0 before {@link #register}. */
    public int nodeId()
    {
        return nodeId;
    }

    /** @return this client's cluster session id. */
    public long sessionId()
    {
        return cluster.clusterSessionId();
    }

    /** Close the session (the registry marks the node down at once) and what this client started. */
    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            if (null == driverInvoker)
            {
                CloseHelper.closeAll(cluster, aeron, driver);
                return;
            }
            try
            {
                CloseHelper.quietClose(cluster);
                // the driver is this thread's to run: let it send the session's close, so the registry marks the
                // node down now rather than at its session timeout
                final long until = System.nanoTime() + CLOSE_DRAIN_NS;
                while (System.nanoTime() - until < 0)
                {
                    if (runDriver() == 0)
                    {
                        java.util.concurrent.locks.LockSupport.parkNanos(100_000L);
                    }
                }
            }
            finally
            {
                CloseHelper.closeAll(aeron, driver);
            }
        }
    }

    /**
     * Open a new session if the last one was lost, and register the node again under its name (the
     * registry gives its id back once the old session is gone: a NAME_TAKEN is waited out).
     */
    private Aeron aeronClient(final String dir)
    {
        return Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(dir)
            // with driverOnCaller, a call awaiting the driver runs it (under the client's lock)
            .driverAgentInvoker(driverInvoker)
            .useConductorAgentInvoker(null != driverInvoker)
            .driverTimeoutMs(DRIVER_TIMEOUT_MS)
            .idleStrategy(new SleepingMillisIdleStrategy(1))
            .errorHandler(ex -> context.log.accept("registry client: aeron client: " + oneLine(ex))));
    }

    private void ensureSession(final String what, final long deadline)
    {
        if (!cluster.isClosed())
        {
            return;
        }
        if (closed)
        {
            throw new RegistryException("the registry client is closed (" + what + " not sent)", null);
        }
        CloseHelper.quietClose(cluster);
        if (aeron.isClosed())
        {
            // the client gave its driver up (a machine too starved to run either for the driver timeout):
            // a new client on the same driver, rather than a node cut off for good
            context.log.accept("registry client: its Aeron client closed; connecting a new one");
            aeron = aeronClient(aeronDir);
            clientInvoker = null == driverInvoker ? null : aeron.conductorAgentInvoker();
        }
        context.log.accept("registry client: the session with the registry at " + context.members +
            " was lost: opening a new one");
        cluster = connect(aeron, Math.max(0, deadline - System.nanoTime()));
        newSessions++;
        lastSendNs = System.nanoTime();
        if (null == registeredName)
        {
            return;
        }
        final String again = "REGISTER of '" + registeredName + "' again";
        while (true)
        {
            if (!attempt(encodeRegister(registeredName, registeredEndpoint, registeredCapacity, registeredLabels), again, deadline))
            {
                if (cluster.isClosed())
                {
                    ensureSession(what, deadline);
                    return;
                }
                continue;
            }
            if (RegistryStatus.OK == replyStatus)
            {
                if (replyNodeId != nodeId)
                {
                    throw new RegistryException("the registry at " + context.members + " gave node '" + registeredName +
                        "' id " + replyNodeId + " instead of " + nodeId + " after a new session", replyStatus);
                }
                return;
            }
            if (RegistryStatus.NAME_TAKEN != replyStatus)
            {
                throw new RegistryException("the registry at " + context.members + " refused node '" + registeredName +
                    "' again after a new session: " + replyStatus.description(), replyStatus);
            }
            checkDeadline(deadline, what, "the old session still holds the name");
            sleepMs(50); // the old session still holds the name until the registry times it out
        }
    }

    /**
     * Send the command in the send buffer and wait for its reply.
     *
     * @return true if it was answered (the reply fields are set); false if its outcome is unknown: no reply
     *         within the reply timeout, the leader changed or the session was lost meanwhile.
     * @throws RegistryException when the call's deadline passes.
     */
    private boolean attempt(final long correlationId, final String what, final long deadline)
    {
        awaitedCorrelationId = correlationId;
        replied = false;
        idleStrategy.reset();
        long result;
        while ((result = cluster.offer(sendBuffer, 0, sendLength)) < 0)
        {
            if (result == Publication.MAX_POSITION_EXCEEDED || cluster.isClosed())
            {
                return unknown(); // not sent; the session is lost (or about to be)
            }
            // NOT_CONNECTED or CLOSED while the session waits for a new leader: poll, it reconnects
            checkDeadline(deadline, what, "not sent");
            cluster.pollEgress();
            idleStrategy.idle();
        }
        lastSendNs = System.nanoTime();
        final int sentType = counted(RegistryMessages.type(sendBuffer, 0));
        sentMessages[sentType]++;
        sentBytes[sentType] += sendLength;
        leaderChanged = false; // from here a new leader may have lost this command
        final long replyDeadline = lastSendNs + context.replyTimeoutNs;
        idleStrategy.reset();
        while (!replied)
        {
            final int fragments = cluster.pollEgress();
            if (replied)
            {
                break;
            }
            if (cluster.isClosed() || leaderChanged || System.nanoTime() - replyDeadline > 0)
            {
                return unknown();
            }
            checkDeadline(deadline, what, "no answer");
            keepAliveIfDue();
            idleStrategy.idle(fragments);
        }
        return true;
    }

    private boolean unknown()
    {
        unknownOutcomes++;
        awaitedCorrelationId = 0; // a late reply is ignored
        onUnknownOutcome.run();
        return false;
    }

    private void checkDeadline(final long deadline, final String what, final String outcome)
    {
        if (System.nanoTime() - deadline > 0)
        {
            throw new RegistryException("the registry at " + context.members + " did not answer " + what +
                " within " + TimeUnit.NANOSECONDS.toMillis(context.callTimeoutNs) + " ms (" + outcome + ")", null);
        }
    }

    private void keepAliveIfDue()
    {
        final long now = System.nanoTime();
        if (now - lastSendNs >= context.keepAliveIntervalNs && cluster.sendKeepAlive())
        {
            lastSendNs = now;
            keepAlives++;
        }
    }

    private final class Listener implements EgressListener
    {
        @Override
        public void onNewLeader(
            final long clusterSessionId, final long leadershipTermId, final int leaderMemberId, final String ingressEndpoints)
        {
            // a command sent to the old leader and not answered may or may not be in the log
            leaderChanged = true;
            leaderChanges++;
            context.log.accept("registry client: member " + leaderMemberId + " leads the registry now (term " +
                leadershipTermId + ")");
        }

        @Override
        public void onMessage(
            final long clusterSessionId, final long timestamp, final DirectBuffer buffer, final int offset,
            final int length, final Header header)
        {
            final int receivedType = length < RegistryMessages.HEADER_LENGTH ? 0 : counted(RegistryMessages.type(buffer, offset));
            receivedMessages[receivedType]++;
            receivedBytes[receivedType] += length;
            if (length < RegistryMessages.HEADER_LENGTH || RegistryMessages.version(buffer, offset) != RegistryMessages.VERSION)
            {
                context.log.accept("registry client: a reply of " + length + " bytes in an unknown layout: ignored");
                return;
            }
            final int type = RegistryMessages.type(buffer, offset);
            if (type == RegistryMessages.NODE_DOWN && length >= RegistryMessages.NodeDown.LENGTH)
            {
                context.nodeDownListener.accept(nodeDown.wrapRead(buffer, offset).nodeId());
                return;
            }
            if (type == RegistryMessages.SERVICE_STATUS)
            {
                serviceChange.wrapRead(buffer, offset);
                final io.vmsched.placement.ServiceHealth[] all = io.vmsched.placement.ServiceHealth.values();
                if (!serviceChange.lengthMatches(length) || serviceChange.health() >= all.length ||
                    serviceChange.previous() >= all.length && serviceChange.previous() != RegistryMessages.ServiceChange.NONE)
                {
                    context.log.accept("registry client: a SERVICE_STATUS of " + length + " bytes that does not add up: ignored");
                    return;
                }
                context.serviceStatusListener.accept(new io.vmsched.placement.ServiceStatus(serviceChange.name(),
                    all[serviceChange.health()], serviceChange.previous() == RegistryMessages.ServiceChange.NONE ? null :
                    all[serviceChange.previous()], serviceChange.cause(), serviceChange.timeMs()));
                return;
            }
            if (RegistryMessages.correlationId(buffer, offset) != awaitedCorrelationId || replied)
            {
                return; // a late reply to a call that timed out
            }
            if (repliesToDrop > 0)
            {
                repliesToDrop--;
                return;
            }
            if (type == RegistryMessages.REGISTERED && length >= RegistryMessages.Registered.LENGTH)
            {
                registered.wrapRead(buffer, offset);
                replyStatus = status(registered.statusCode());
                replyNodeId = registered.nodeId();
                replied = true;
            }
            else if (type == RegistryMessages.OWNER && length >= RegistryMessages.Owner.LENGTH)
            {
                owner.wrapRead(buffer, offset);
                replyStatus = status(owner.statusCode());
                replyOwnership = new Ownership(
                    replyStatus, owner.vmId(), owner.owner(), owner.epoch(), owner.migrationId(), owner.fence());
                replyOwnership.rule = RegistryStatus.RULE == replyStatus ? owner.rule() : -1;
                replied = true;
            }
            else if (type == RegistryMessages.REPORTED && length >= RegistryMessages.Reported.LENGTH)
            {
                replyStatus = status(reported.wrapRead(buffer, offset).statusCode());
                replyDirectoryVersion = reported.directoryVersion();
                reportedPlacementVersion = reported.placementVersion();
                replied = true;
            }
            else if (type == RegistryMessages.DIRECTORY_PAGE)
            {
                onDirectoryPage(buffer, offset, length);
            }
            else if (type == RegistryMessages.PLACED && length >= RegistryMessages.Placed.BLOCK_LENGTH)
            {
                placed.wrapRead(buffer, offset);
                replyStatus = placed.lengthMatches(length) ? status(placed.statusCode()) : RegistryStatus.MALFORMED;
                replyPlacementVersion = placed.placementVersion();
                replyReason = RegistryStatus.MALFORMED == replyStatus && !placed.lengthMatches(length) ?
                    "a reply whose length does not add up" : placed.reason();
                replied = true;
            }
            else if (type == RegistryMessages.PLACEMENT_PAGE && length >= RegistryMessages.PlacementPage.BLOCK_LENGTH)
            {
                placementPage.wrapRead(buffer, offset);
                final List<String> page = placementPage.statements(length);
                replyStatements.clear();
                replyStatus = null == page ? RegistryStatus.MALFORMED : status(placementPage.statusCode());
                if (null != page)
                {
                    replyStatements.addAll(page);
                }
                replyPlacementVersion = placementPage.placementVersion();
                replyStatementsTotal = placementPage.total();
                replied = true;
            }
        }
    }

    private void onDirectoryPage(final DirectBuffer buffer, final int offset, final int length)
    {
        directoryPage.wrapRead(buffer, offset);
        replyNodes.clear();
        replyNextAfterId = 0;
        replyStatus = status(directoryPage.statusCode());
        replied = true;
        if (!directoryPage.lengthMatches(length))
        {
            context.log.accept("registry client: a directory page of " + length + " bytes whose nodes do not add up");
            replyStatus = RegistryStatus.MALFORMED;
            return;
        }
        replyNextAfterId = directoryPage.nextAfterId();
        int at = directoryPage.firstNode();
        for (int i = 0, count = directoryPage.nodeCount(); i < count; i++)
        {
            directoryNode.wrap(buffer, at);
            final HostCapacity capacity;
            try
            {
                capacity = new HostCapacity(directoryNode.cores(), directoryNode.coreSpeed(),
                    directoryNode.ioBytesPerSecond(), directoryNode.memoryBytes());
            }
            catch (final IllegalArgumentException ex)
            {
                context.log.accept("registry client: node " + directoryNode.nodeId() + " of a directory page has a bad capacity");
                replyStatus = RegistryStatus.MALFORMED;
                return;
            }
            replyNodes.add(new NodeInfo(directoryNode.nodeId(), directoryNode.name(), directoryNode.endpoint(), capacity,
                directoryNode.labels(), directoryNode.up(), directoryNode.load(), directoryNode.vmCount(),
                directoryNode.reportTime()));
            at += directoryNode.length();
        }
    }

    private static RegistryStatus status(final int code)
    {
        final RegistryStatus status = RegistryStatus.get(code);
        return null == status ? RegistryStatus.MALFORMED : status;
    }

    private static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while connecting to the registry", null);
        }
    }

    private static String firstWords(final String s)
    {
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }

    private static String oneLine(final Throwable ex)
    {
        final String message = ex.getMessage();
        return (message == null ? ex.getClass().getSimpleName() : message).replace('\n', ' ');
    }

    /** A VM's entry as a reply gave it, with the command's status. Immutable. */
    public static final class Ownership
    {
        private final RegistryStatus status;
        private final long vmId;
        private final int owner;
        private final long epoch;
        private final long migrationId;
        private final long fence;
        private int rule = -1;

        Ownership(
            final RegistryStatus status, final long vmId, final int owner, final long epoch, final long migrationId,
            final long fence)
        {
            this.status = status;
            this.vmId = vmId;
            this.owner = owner;
            this.epoch = epoch;
            this.migrationId = migrationId;
            this.fence = fence;
        }

        /** @return the command's outcome. */
        public RegistryStatus status()
        {
            return status;
        }

        /** @return the VM. */
        public long vmId()
        {
            return vmId;
        }

        /** @return its owner after the command, 0 if none. */
        public int owner()
        {
            return owner;
        }

        /** @return its epoch after the command, 0 if none. */
        public long epoch()
        {
            return epoch;
        }

        /** @return the migration of its last CAS, MOVE or RECLAIM (0 after admission). */
        public long migrationId()
        {
            return migrationId;
        }

        /** @return its fence: the highest migration its owner reclaimed in this tenure (0: none). */
        public long fence()
        {
            return fence;
        }

        /** @return for status RULE, the index of the hard rule that refused it in the registry's placement; else -1. */
        public int rule()
        {
            return rule;
        }

        Ownership withStatus(final RegistryStatus newStatus)
        {
            return newStatus == status ? this : new Ownership(newStatus, vmId, owner, epoch, migrationId, fence);
        }

        @Override
        public String toString()
        {
            return status + " vm " + vmId + " -> (node " + owner + ", epoch " + epoch + ", migration " + migrationId +
                ", fence " + fence + ")";
        }
    }

    /** A node of the registry's directory, as a DIRECTORY page gave it. Immutable. */
    public static final class NodeInfo
    {
        private final int nodeId;
        private final String name;
        private final String endpoint;
        private final HostCapacity capacity;
        private final String labels;
        private final boolean up;
        private final double load;
        private final int vmCount;
        private final long reportTime;

        NodeInfo(
            final int nodeId, final String name, final String endpoint, final HostCapacity capacity, final String labels,
            final boolean up, final double load, final int vmCount, final long reportTime)
        {
            this.nodeId = nodeId;
            this.name = name;
            this.endpoint = endpoint;
            this.capacity = capacity;
            this.labels = labels;
            this.up = up;
            this.load = load;
            this.vmCount = vmCount;
            this.reportTime = reportTime;
        }

        /** @return its id. */
        public int nodeId()
        {
            return nodeId;
        }

        /** @return its name. */
        public String name()
        {
            return name;
        }

        /** @return its data-plane endpoint, {@code host:port}. */
        public String endpoint()
        {
            return endpoint;
        }

        /** @return its capacity. */
        public HostCapacity capacity()
        {
            return capacity;
        }

        /** @return its labels. */
        public String labels()
        {
            return labels;
        }

        /** @return whether its session with the registry is live. */
        public boolean up()
        {
            return up;
        }

        /** @return whether it ever reported its load. */
        public boolean reported()
        {
            return RegistryState.NO_REPORT != reportTime;
        }

        /** @return the load of its last report (0 if none). */
        public double load()
        {
            return load;
        }

        /** @return the VM count of its last report (0 if none). */
        public int vmCount()
        {
            return vmCount;
        }

        /** @return the registry's cluster time (ms since the epoch) of its last report, or {@link RegistryState#NO_REPORT}. */
        public long reportTime()
        {
            return reportTime;
        }

        @Override
        public String toString()
        {
            return "node " + nodeId + " '" + name + "' at " + endpoint + (up ? " up" : " down") +
                (reported() ? ", load " + load + ", " + vmCount + " VMs at " + reportTime : ", no report");
        }
    }

    /** Configuration of a client. */
    public static final class Context
    {
        private String members;
        private String aeronDirectoryName;
        private String egressHost = "127.0.0.1";
        private long connectTimeoutNs = TimeUnit.SECONDS.toNanos(10);
        private long callTimeoutNs = TimeUnit.SECONDS.toNanos(5);
        private long replyTimeoutNs = TimeUnit.SECONDS.toNanos(1);
        private long keepAliveIntervalNs = TimeUnit.SECONDS.toNanos(1);
        private IdleStrategy idleStrategy;
        private Consumer<String> log = System.err::println;
        private IntConsumer nodeDownListener = id -> { };
        private Consumer<io.vmsched.placement.ServiceStatus> serviceStatusListener = status -> { };
        private byte[] secret;
        private boolean insecure;
        private boolean driverOnCaller;

        /**
         * @param ingressEndpoints the members' client-facing endpoints, {@code 0=host:port,1=host:port,...}
         *                         ({@link RegistryMember#ingressEndpoints()}).
         * @return this.
         */
        public Context members(final String ingressEndpoints)
        {
            this.members = ingressEndpoints;
            return this;
        }

        /**
         * @param name a running media driver's directory (the node's own); default: start one for this client.
         * @return this.
         */
        public Context aeronDirectoryName(final String name)
        {
            this.aeronDirectoryName = name;
            return this;
        }

        /**
         * @param host the address replies come to (an ephemeral port on it); default 127.0.0.1.
         * @return this.
         */
        public Context egressHost(final String host)
        {
            this.egressHost = host;
            return this;
        }

        /**
         * @param timeout how long {@link #connect} keeps trying.
         * @param unit    its unit.
         * @return this.
         */
        public Context connectTimeout(final long timeout, final TimeUnit unit)
        {
            this.connectTimeoutNs = unit.toNanos(timeout);
            return this;
        }

        /**
         * @param timeout the deadline of each call.
         * @param unit    its unit.
         * @return this.
         */
        public Context callTimeout(final long timeout, final TimeUnit unit)
        {
            this.callTimeoutNs = unit.toNanos(timeout);
            return this;
        }

        /**
         * @param timeout how long one attempt waits for its reply before its outcome counts as unknown and the
         *                call resolves it (a QUERY, or the command again); well under the call timeout.
         * @param unit    its unit.
         * @return this.
         */
        public Context replyTimeout(final long timeout, final TimeUnit unit)
        {
            this.replyTimeoutNs = unit.toNanos(timeout);
            return this;
        }

        /**
         * @param interval how often an idle client sends a keep-alive (well under the registry's session timeout).
         * @param unit     its unit.
         * @return this.
         */
        public Context keepAliveInterval(final long interval, final TimeUnit unit)
        {
            this.keepAliveIntervalNs = unit.toNanos(interval);
            return this;
        }

        /**
         * @param idleStrategy how a call waits for its answer (default: backoff, parking up to 1 ms).
         * @return this.
         */
        public Context idleStrategy(final IdleStrategy idleStrategy)
        {
            this.idleStrategy = idleStrategy;
            return this;
        }

        /**
         * Run the client's own media driver and Aeron client on the thread that owns this client (Aeron's INVOKER
         * mode), in every wait of a call and in {@link #poll()}, instead of on a thread of the driver's: a command
         * and its reply each cross one thread less. The owner must then call {@link #poll()} often (every
         * millisecond or so) between calls, or the session's traffic waits. No effect with
         * {@link #aeronDirectoryName} (a driver someone else runs). Default false.
         *
         * @param onCaller whether the owning thread runs the driver.
         * @return this.
         */
        public Context driverOnCaller(final boolean onCaller)
        {
            this.driverOnCaller = onCaller;
            return this;
        }

        /**
         * @param log where one-line notes go (default: standard error).
         * @return this.
         */
        public Context log(final Consumer<String> log)
        {
            this.log = log;
            return this;
        }

        /**
         * @param listener told the id of every node that goes down, on the client's thread.
         * @return this.
         */
        public Context nodeDownListener(final IntConsumer listener)
        {
            this.nodeDownListener = listener;
            return this;
        }

        /**
         * @param listener told of every change of a service's status the registry judges (SERVICE_STATUS), on the
         *                 client's thread; it must not call the client.
         * @return this.
         */
        public Context serviceStatusListener(final Consumer<io.vmsched.placement.ServiceStatus> listener)
        {
            this.serviceStatusListener = listener;
            return this;
        }

        /**
         * @param secret the cluster's secret (read it with {@link io.vmsched.aeron.ClusterSecret#read}): the
         *               client answers the registry's challenge with it. Copied.
         * @return this.
         */
        public Context secret(final byte[] secret)
        {
            if (null == secret || 0 == secret.length)
            {
                throw new IllegalArgumentException("registry client: the cluster secret is empty");
            }
            this.secret = secret.clone();
            return this;
        }

        /**
         * Tests only: connect without credentials (a registry started with
         * {@link RegistryMember.Context#insecureForTests()} lets it in; one with a secret refuses it).
         *
         * @return this.
         */
        public Context insecureForTests()
        {
            this.insecure = true;
            return this;
        }

        Context conclude()
        {
            if (null == members || members.isBlank())
            {
                throw new IllegalArgumentException("registry client: no registry members given (expected 0=host:port,...)");
            }
            if (null == secret && !insecure)
            {
                throw new IllegalArgumentException("registry client: no cluster secret given " +
                    "(Context.secret, read with ClusterSecret.read from a file of mode 600)");
            }
            if (null == idleStrategy)
            {
                idleStrategy = io.vmsched.dispatch.Idle.messages();
            }
            return this;
        }
    }
}
