package io.vmsched.aeron.registry;

import io.aeron.CommonContext;
import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusterControl;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.NoOpLock;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One member of the registry's Aeron Cluster: an embedded media driver, an Archive and a consensus
 * module ({@link ClusteredMediaDriver}) and a {@link ClusteredServiceContainer} running a
 * {@link RegistryService}. Its data (the archive's recordings of the log, the consensus module's
 * recording log and snapshots) lives under {@code dataDir}, so a member restarted on the same
 * directory comes back from its latest snapshot and the log after it.
 * <p>
 * Members are given as {@code id=host:port,...}; member {@code id} uses five UDP ports from
 * {@code port}: ingress (clients), consensus, log, catch-up, archive control. The member list is fixed
 * at start (Aeron Cluster has no dynamic join).
 * <p>
 * Only clients holding the cluster's secret get a session: the consensus module challenges each
 * one ({@link RegistryAuthenticator}); {@link Context#secret(byte[])} gives the secret (read it with
 * {@link io.vmsched.aeron.ClusterSecret#read}); a member without one starts only if
 * {@link Context#insecureForTests()} says so.
 * <p>
 * Built for a small machine: every agent runs in SHARED threading mode with a backoff idle strategy
 * that parks up to 1 ms, terms are 64 KiB (the log 1 MiB) in sparse files.
 * <p>
 * <b>Note:</b> start, kill and close from one thread; {@link #takeSnapshot(long)} and the getters from any.
 */
public final class RegistryMember implements AutoCloseable
{
    /**
     * Client sessions a member admits by default: one per node, so the directory's few thousand nodes
     * (Aeron Cluster's own default is 10). Each costs the member an egress publication to its client
     * (a 64 KiB-term log, 192 KiB of sparse file, written as used).
     */
    public static final int DEFAULT_MAX_SESSIONS = 4096;
    /** Ports used by a member, from its base port. */
    public static final int PORTS_PER_MEMBER = 5;
    static final int INGRESS_OFFSET = 0;
    static final int CONSENSUS_OFFSET = 1;
    static final int LOG_OFFSET = 2;
    static final int CATCHUP_OFFSET = 3;
    static final int ARCHIVE_OFFSET = 4;

    private final Context context;
    private final RegistryService service;
    private final ClusteredMediaDriver clusteredMediaDriver;
    private final ClusteredServiceContainer container;
    private boolean closed;
    private Thread killer;

    private RegistryMember(final Context context)
    {
        this.context = context;
        final String host = context.members.get(context.memberId);
        final String hostOnly = host.substring(0, host.lastIndexOf(':'));
        final Consumer<String> log = context.log;
        final String who = "registry member " + context.memberId;
        service = new RegistryService(log);

        final MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(context.aeronDirectoryName)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(io.vmsched.dispatch.Idle.receiving())
            .termBufferSparseFile(true)
            .publicationTermBufferLength(64 * 1024)
            .ipcTermBufferLength(64 * 1024)
            .printConfigurationOnStart(false)
            .errorHandler(ex -> log.accept(who + ": media driver: " + oneLine(ex)));

        final Archive.Context archiveContext = new Archive.Context()
            .aeronDirectoryName(context.aeronDirectoryName)
            .archiveDir(new File(context.dataDir, "archive"))
            .controlChannel("aeron:udp?endpoint=" + endpoint(context.memberId, ARCHIVE_OFFSET))
            .localControlChannel("aeron:ipc?term-length=64k")
            .replicationChannel("aeron:udp?endpoint=" + hostOnly + ":0")
            .archiveClientContext(new AeronArchive.Context().controlResponseChannel("aeron:udp?endpoint=" + hostOnly + ":0"))
            .recordingEventsEnabled(false)
            .segmentFileLength(8 * 1024 * 1024)
            .threadingMode(ArchiveThreadingMode.SHARED)
            .idleStrategySupplier(RegistryMember::idle)
            .errorHandler(ex -> log.accept(who + ": archive: " + oneLine(ex)));

        final AeronArchive.Context localArchive = new AeronArchive.Context()
            .lock(NoOpLock.INSTANCE)
            .controlRequestChannel(archiveContext.localControlChannel())
            .controlRequestStreamId(archiveContext.localControlStreamId())
            .controlResponseChannel(archiveContext.localControlChannel())
            .aeronDirectoryName(context.aeronDirectoryName);

        final File clusterDir = new File(context.dataDir, "cluster");
        final ConsensusModule.Context consensusContext = new ConsensusModule.Context()
            .clusterMemberId(context.memberId)
            .clusterMembers(clusterMembers(context.members))
            .clusterDir(clusterDir)
            .aeronDirectoryName(context.aeronDirectoryName)
            .archiveContext(localArchive.clone())
            .ingressChannel("aeron:udp?term-length=64k")
            .logChannel("aeron:udp?term-length=1m")
            .replicationChannel("aeron:udp?endpoint=" + hostOnly + ":0")
            .sessionTimeoutNs(context.sessionTimeoutNs)
            .maxConcurrentSessions(context.maxSessions)
            .leaderHeartbeatTimeoutNs(context.leaderHeartbeatTimeoutNs)
            .leaderHeartbeatIntervalNs(context.leaderHeartbeatTimeoutNs / 10)
            .electionTimeoutNs(context.electionTimeoutNs)
            .idleStrategySupplier(RegistryMember::idle)
            .errorHandler(ex -> log.accept(who + ": consensus module: " + oneLine(ex)));
        if (null != context.secret)
        {
            consensusContext.authenticatorSupplier(RegistryAuthenticator.supplier(context.secret, who, log));
        }

        final ClusteredServiceContainer.Context serviceContext = new ClusteredServiceContainer.Context()
            .aeronDirectoryName(context.aeronDirectoryName)
            .archiveContext(localArchive.clone())
            .clusterDir(clusterDir)
            .clusteredService(service)
            .idleStrategySupplier(RegistryMember::idle)
            .errorHandler(ex -> log.accept(who + ": registry service: " + oneLine(ex)));

        ClusteredMediaDriver startedDriver = null;
        try
        {
            startedDriver = ClusteredMediaDriver.launch(driverContext, archiveContext, consensusContext);
            container = ClusteredServiceContainer.launch(serviceContext);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(startedDriver);
            IoUtil.delete(new File(context.aeronDirectoryName), true);
            final String why = String.valueOf(ex.getMessage()).contains("Address already in use") ?
                "a port is in use (ports " + host + " and the " + (PORTS_PER_MEMBER - 1) + " after it)" : oneLine(ex);
            throw new IllegalStateException(who + ": cannot start on " + host + " with data " + context.dataDir + ": " + why, ex);
        }
        clusteredMediaDriver = startedDriver;
    }

    /**
     * Start a member.
     *
     * @param context its configuration (concluded here).
     * @return the running member.
     * @throws IllegalStateException in one line if it cannot start (a port in use, a bad directory).
     */
    public static RegistryMember launch(final Context context)
    {
        return new RegistryMember(context.conclude());
    }

    /** @return this member's service (its counters and role). */
    public RegistryService service()
    {
        return service;
    }

    /** @return this member's id. */
    public int memberId()
    {
        return context.memberId;
    }

    /** @return the client-facing endpoints of every member, for {@link RegistryClient.Context#members(String)}. */
    public String ingressEndpoints()
    {
        return ingressEndpoints(context.members);
    }

    /**
     * Ask this member (which must be the leader) to take a snapshot, and wait for it.
     *
     * @param timeoutMs how long to wait.
     * @return whether a snapshot was taken in time.
     */
    public boolean takeSnapshot(final long timeoutMs)
    {
        final ConsensusModule.Context cm = clusteredMediaDriver.consensusModule().context();
        final AtomicCounter snapshots = cm.snapshotCounter();
        final long before = snapshots.get();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!ClusterControl.ToggleState.SNAPSHOT.toggle(cm.controlToggleCounter()))
        {
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            sleep();
        }
        while (snapshots.get() <= before)
        {
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            sleep();
        }
        return true;
    }

    /** @return whether this member is the cluster's leader now, from any thread. */
    public boolean isLeader()
    {
        return !closed && Cluster.Role.LEADER == service.role();
    }

    /**
     * Stop the service, the consensus module, the archive and the driver; the data stays. After
     * {@link #kill()}, wait (up to a minute) for what it left closing.
     */
    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            CloseHelper.closeAll(clusteredMediaDriver.consensusModule(), container, clusteredMediaDriver);
        }
        else if (null != killer)
        {
            try
            {
                killer.join(60_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Stop as a crash would, for tests of failover. The media driver goes first, on the caller's thread,
     * so the member has fallen silent on the network when this returns (no end of stream on its
     * publications, no more heartbeats, nothing handed over). The consensus module, the archive and the
     * service then close on a thread of their own: without their driver they wait out timeouts of their
     * own, seconds in which the caller (a test whose thread also keeps clients alive) must not be held.
     * {@link #close()} waits for them. The data stays, as after a kill -9.
     */
    public void kill()
    {
        if (!closed)
        {
            closed = true;
            CloseHelper.quietClose(clusteredMediaDriver.mediaDriver());
            killer = new Thread(
                () -> CloseHelper.quietCloseAll(clusteredMediaDriver.consensusModule(), container, clusteredMediaDriver),
                "registry-member-" + context.memberId + "-kill");
            killer.setDaemon(true);
            killer.start();
        }
    }

    private static void sleep()
    {
        try
        {
            Thread.sleep(1);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("registry: interrupted while waiting for a snapshot", ex);
        }
    }

    private static org.agrona.concurrent.IdleStrategy idle()
    {
        return io.vmsched.dispatch.Idle.heating(); // a node awaits every answer: the first thread to see a request wakes the rest
    }

    private String endpoint(final int memberId, final int portOffset)
    {
        return endpoint(context.members.get(memberId), portOffset);
    }

    static String endpoint(final String hostPort, final int portOffset)
    {
        final int colon = hostPort.lastIndexOf(':');
        return hostPort.substring(0, colon + 1) + (Integer.parseInt(hostPort.substring(colon + 1)) + portOffset);
    }

    static String clusterMembers(final Map<Integer, String> members)
    {
        final StringBuilder sb = new StringBuilder();
        for (final Map.Entry<Integer, String> member : members.entrySet())
        {
            final String base = member.getValue();
            if (sb.length() > 0)
            {
                sb.append('|');
            }
            sb.append(member.getKey())
                .append(',').append(endpoint(base, INGRESS_OFFSET))
                .append(',').append(endpoint(base, CONSENSUS_OFFSET))
                .append(',').append(endpoint(base, LOG_OFFSET))
                .append(',').append(endpoint(base, CATCHUP_OFFSET))
                .append(',').append(endpoint(base, ARCHIVE_OFFSET));
        }
        return sb.toString();
    }

    /**
     * @param members the members as {@code vmsched registry --members} takes them: {@code id=host:port,...}
     *                (each port the first of {@link #PORTS_PER_MEMBER}).
     * @return their client-facing endpoints, for {@link RegistryClient.Context#members(String)}.
     * @throws IllegalArgumentException in one line naming a bad entry.
     */
    public static String ingressEndpoints(final String members)
    {
        return ingressEndpoints(parseMembers(members));
    }

    static String ingressEndpoints(final Map<Integer, String> members)
    {
        final StringBuilder sb = new StringBuilder();
        for (final Map.Entry<Integer, String> member : members.entrySet())
        {
            if (sb.length() > 0)
            {
                sb.append(',');
            }
            sb.append(member.getKey()).append('=').append(endpoint(member.getValue(), INGRESS_OFFSET));
        }
        return sb.toString();
    }

    /**
     * Parse {@code id=host:port,id=host:port,...} (ids from 0, each once; the port is the first of
     * {@link #PORTS_PER_MEMBER}).
     *
     * @param members the list.
     * @return id to {@code host:port}, in the order given.
     * @throws IllegalArgumentException in one line naming the bad entry.
     */
    public static Map<Integer, String> parseMembers(final String members)
    {
        final Map<Integer, String> parsed = new LinkedHashMap<>();
        if (null == members || members.isBlank())
        {
            throw new IllegalArgumentException("registry members: none given (expected id=host:port,...)");
        }
        for (final String entry : members.split(","))
        {
            final int eq = entry.indexOf('=');
            final int colon = entry.lastIndexOf(':');
            try
            {
                if (eq < 1 || colon < eq + 2)
                {
                    throw new NumberFormatException();
                }
                final int id = Integer.parseInt(entry.substring(0, eq).trim());
                final int port = Integer.parseInt(entry.substring(colon + 1).trim());
                if (id < 0 || port < 1 || port + PORTS_PER_MEMBER - 1 > 65535)
                {
                    throw new NumberFormatException();
                }
                if (null != parsed.put(id, entry.substring(eq + 1, colon).trim() + ":" + port))
                {
                    throw new IllegalArgumentException("registry members: member " + id + " is given twice in '" + members + "'");
                }
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("registry members: bad entry '" + entry + "' in '" + members +
                    "' (expected id=host:port, port 1.." + (65535 - PORTS_PER_MEMBER + 1) + ")");
            }
        }
        return parsed;
    }

    private static String oneLine(final Throwable ex)
    {
        final String message = ex.getMessage();
        return (message == null ? ex.getClass().getSimpleName() : message).replace('\n', ' ');
    }

    /** Configuration of a member. */
    public static final class Context
    {
        private int memberId = -1;
        private Map<Integer, String> members;
        private File dataDir;
        private String aeronDirectoryName;
        private long sessionTimeoutNs = TimeUnit.SECONDS.toNanos(10);
        private int maxSessions = DEFAULT_MAX_SESSIONS;
        private long leaderHeartbeatTimeoutNs = ConsensusModule.Configuration.LEADER_HEARTBEAT_TIMEOUT_DEFAULT_NS;
        private long electionTimeoutNs = ConsensusModule.Configuration.ELECTION_TIMEOUT_DEFAULT_NS;
        private Consumer<String> log = System.err::println;
        private byte[] secret;
        private boolean insecure;

        /**
         * @param memberId this member's id, one of {@link #members(String)}.
         * @return this.
         */
        public Context memberId(final int memberId)
        {
            this.memberId = memberId;
            return this;
        }

        /**
         * @param members every member, {@code id=host:port,...} (the same list on every member).
         * @return this.
         */
        public Context members(final String members)
        {
            this.members = parseMembers(members);
            return this;
        }

        /**
         * @param dataDir where this member keeps its archive and cluster directories.
         * @return this.
         */
        public Context dataDir(final File dataDir)
        {
            this.dataDir = dataDir;
            return this;
        }

        /**
         * @param name the embedded media driver's directory (default: unique, deleted on close).
         * @return this.
         */
        public Context aeronDirectoryName(final String name)
        {
            this.aeronDirectoryName = name;
            return this;
        }

        /**
         * @param timeout how long a client session may be silent before it is closed (its node down).
         * @param unit    its unit.
         * @return this.
         */
        public Context sessionTimeout(final long timeout, final TimeUnit unit)
        {
            this.sessionTimeoutNs = unit.toNanos(timeout);
            return this;
        }

        /**
         * @param maxSessions how many client sessions (nodes, tools) the member admits at once; one more is
         *                    refused ({@link #DEFAULT_MAX_SESSIONS} by default). The same on every member.
         * @return this.
         */
        public Context maxSessions(final int maxSessions)
        {
            if (maxSessions < 1)
            {
                throw new IllegalArgumentException("registry member: max sessions " + maxSessions + " is below 1");
            }
            this.maxSessions = maxSessions;
            return this;
        }

        /**
         * @param timeout how long followers wait without hearing from the leader before they elect a new
         *                one (Aeron's default 10 s; the leader beats at a tenth of it). The same on every member.
         * @param unit    its unit.
         * @return this.
         */
        public Context leaderHeartbeatTimeout(final long timeout, final TimeUnit unit)
        {
            this.leaderHeartbeatTimeoutNs = unit.toNanos(timeout);
            return this;
        }

        /**
         * @param timeout how long one round of an election may take before it starts again (Aeron's default 1 s).
         * @param unit    its unit.
         * @return this.
         */
        public Context electionTimeout(final long timeout, final TimeUnit unit)
        {
            this.electionTimeoutNs = unit.toNanos(timeout);
            return this;
        }

        /**
         * @param log where one-line notes and errors go (default: standard error).
         * @return this.
         */
        public Context log(final Consumer<String> log)
        {
            this.log = log;
            return this;
        }

        /**
         * @param secret the cluster's secret (the same on every member and node; read it with
         *               {@link io.vmsched.aeron.ClusterSecret#read}): only clients that prove they hold it
         *               get a session. Copied.
         * @return this.
         */
        public Context secret(final byte[] secret)
        {
            if (null == secret || 0 == secret.length)
            {
                throw new IllegalArgumentException("registry member: the cluster secret is empty");
            }
            this.secret = secret.clone();
            return this;
        }

        /**
         * Tests only: start without a secret, admitting every client (Aeron's default authenticator).
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
            if (null == members)
            {
                throw new IllegalArgumentException("registry member: no members given (expected id=host:port,...)");
            }
            if (null == secret && !insecure)
            {
                throw new IllegalArgumentException("registry member " + memberId + ": no cluster secret given " +
                    "(Context.secret, read with ClusterSecret.read from a file of mode 600)");
            }
            if (!members.containsKey(memberId))
            {
                throw new IllegalArgumentException("registry member: id " + memberId + " is not one of the members " + members.keySet());
            }
            if (null == dataDir)
            {
                throw new IllegalArgumentException("registry member " + memberId + ": no data directory given");
            }
            if (dataDir.exists() && !dataDir.isDirectory())
            {
                throw new IllegalArgumentException("registry member " + memberId + ": data " + dataDir + " is not a directory");
            }
            if (null == aeronDirectoryName)
            {
                aeronDirectoryName = CommonContext.getAeronDirectoryName() + "-vmsched-registry" + memberId + "-" + UUID.randomUUID();
            }
            return this;
        }
    }
}
