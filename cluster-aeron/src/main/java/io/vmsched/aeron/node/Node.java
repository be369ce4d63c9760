package io.vmsched.aeron.node;

import io.vmsched.aeron.AeronTransport;
import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.balance.BalanceConfig;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.GuestRegistry;
import io.vmsched.cluster.HostConfig;
import io.vmsched.load.HostCapacity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One node of a cluster across machines: this machine's host ({@link Cluster} with
 * {@link ClusterConfig#localHost}), its {@link AeronTransport} to the peers, and its session with the
 * registry ({@link RegistryOwners}), which names the node's host id, holds the owner of every VM and
 * keeps the directory of peers, refreshed every {@link Context#directoryPeriodMs}.
 * <p>
 * The data directory is the node's own: it records the node's name ({@value #NAME_FILE}), and a start
 * under another name is refused, since the journal holds that node's VMs.
 * <p>
 * Threading: {@link #start} and {@link #close} from one thread; {@link #cluster()}'s API from any thread.
 */
public final class Node implements AutoCloseable
{
    /** The file in a node's data directory naming the node its journal belongs to. */
    public static final String NAME_FILE = "node.name";
    /** The file in a node's data directory with its traffic counters, with {@link Context#writeTraffic}. */
    public static final String TRAFFIC_FILE = "traffic.txt";

    private final Context context;
    private final AeronTransport transport;
    private final RegistryOwners owners;
    private final int hostId;
    private final HostCapacity capacity;
    private volatile Cluster cluster;
    private volatile boolean closing;
    private long nextDirectoryNs;
    private long knownDirectoryVersion = Long.MIN_VALUE; // the registry thread's: the directory last read
    private int knownPlacementVersion; // the registry thread's: the placement last read
    // adopts the registry's placement off the registry thread: a caller changing the placement holds the
    // copy's lock while it waits for the registry thread, which must never wait for that lock in turn
    private final java.util.concurrent.ExecutorService adopter = java.util.concurrent.Executors.newSingleThreadExecutor(r ->
    {
        final Thread thread = new Thread(r, "vmsched-placement-copy");
        thread.setDaemon(true);
        return thread;
    });

    private Node(final Context context, final RegistryClient client, final int nodeId, final StatusRelay relay)
    {
        this.context = context;
        this.hostId = RegistryOwners.hostOf(nodeId);
        this.capacity = context.host.capacity();
        AeronTransport startedTransport = null;
        try
        {
            // the agent runs the transport's driver: a message crosses one thread less each way (its idle strategy,
            // Idle.polling, parks at most 100 µs, as the driver's own would)
            startedTransport = new AeronTransport(new AeronTransport.Context().hostId(hostId).bind(context.bind)
                .secret(context.secret).maxHosts(context.maxHosts).log(context.log)
                .driverOnPoller(context.host.agentIdleStrategy == Context.AGENT_RUNS_DRIVER));
        }
        catch (final RuntimeException ex)
        {
            client.close();
            throw ex;
        }
        this.transport = startedTransport;
        final List<RegistryClient.NodeInfo> directory;
        final RegistryClient.PlacementCopy placement;
        try
        {
            directory = client.directory();
            placement = client.placement();
        }
        catch (final RuntimeException ex)
        {
            transport.close();
            client.close();
            throw ex;
        }
        int hosts = hostId + 1;
        for (final RegistryClient.NodeInfo peer : directory)
        {
            final int host = RegistryOwners.hostOf(peer.nodeId());
            if (host != hostId && host < context.maxHosts)
            {
                transport.addPeer(host, peer.endpoint());
                hosts = Math.max(hosts, host + 1);
            }
        }
        this.owners = new RegistryOwners(client, () -> duties(client), context.log);
        final ClusterConfig config = ClusterConfig.of(hosts, context.dataDir);
        config.maxHosts = context.maxHosts;
        config.localHost = hostId;
        config.owners = owners;
        config.transports = h -> transport;
        config.host = context.host;
        config.guests = context.guests;
        config.listener = context.listener;
        config.placementAuthority = new RegistryPlacement(owners, client);
        if (context.host.labels.isEmpty())
        {
            context.host.labels = io.vmsched.aeron.registry.RegistryState.placementLabels(context.labels);
        }
        try
        {
            cluster = Cluster.start(config);
        }
        catch (final RuntimeException ex)
        {
            owners.close();
            transport.close();
            adopter.shutdownNow();
            throw ex;
        }
        learn(directory);
        cluster.adoptPlacement(placement.statements());
        knownPlacementVersion = placement.version();
        final Cluster started = cluster;
        relay.target(status -> adopter.execute(() ->
        {
            // off the registry thread: the listener may call the cluster, whose calls wait for that thread
            if (!closing)
            {
                context.log.accept("vmsched node " + context.name + ": service " + status.service() + " " +
                    (status.previous() == null ? "" : status.previous().word() + " -> ") + status.health().word() + ": " +
                    status.cause() + " (judged by the registry)");
                started.serviceStatusJudged(status);
            }
        }));
    }

    /**
     * The registry's SERVICE_STATUS events, held until the node's cluster runs (its own REGISTER may change a
     * status), then passed on in order. Threadsafe: the registry thread tells, the starting thread sets the target.
     */
    private static final class StatusRelay implements java.util.function.Consumer<io.vmsched.placement.ServiceStatus>
    {
        private static final int MAX_EARLY = 1024;
        private final java.util.List<io.vmsched.placement.ServiceStatus> early = new java.util.ArrayList<>();
        private java.util.function.Consumer<io.vmsched.placement.ServiceStatus> target;

        @Override
        public synchronized void accept(final io.vmsched.placement.ServiceStatus status)
        {
            if (target != null)
            {
                target.accept(status);
            }
            else if (early.size() < MAX_EARLY)
            {
                early.add(status);
            }
        }

        synchronized void target(final java.util.function.Consumer<io.vmsched.placement.ServiceStatus> target)
        {
            early.forEach(target);
            early.clear();
            this.target = target;
        }
    }

    /**
     * Join the cluster: reach the registry (retrying until {@link Context#connectTimeoutMs}), register
     * under the node's name, listen on the bind address, recover the journal (asking the registry what
     * became of the migrations a crash cut short) and start.
     *
     * @param context the settings.
     * @return the running node.
     * @throws IllegalArgumentException in one line: a bad setting, or a data directory of another node.
     * @throws IllegalStateException    in one line: the port is in use, the registry refused the node.
     * @throws io.vmsched.aeron.registry.RegistryException in one line: the registry could not be reached.
     */
    public static Node start(final Context context)
    {
        context.conclude();
        claimName(context.dataDir, context.name);
        final StatusRelay relay = new StatusRelay();
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .serviceStatusListener(relay)
            .members(io.vmsched.aeron.registry.RegistryMember.ingressEndpoints(context.registry))
            .secret(context.secret)
            .egressHost(host(context.bind))
            .connectTimeout(context.connectTimeoutMs, TimeUnit.MILLISECONDS)
            .driverOnCaller(true) // the registry thread polls it every millisecond at least (RegistryOwners.run)
            .log(context.log));
        final int nodeId;
        try
        {
            nodeId = client.register(context.name, context.bind, context.host.capacity(), context.labels);
        }
        catch (final RuntimeException ex)
        {
            client.close();
            throw ex;
        }
        if (RegistryOwners.hostOf(nodeId) >= context.maxHosts)
        {
            client.close();
            throw new IllegalStateException("the registry numbered node '" + context.name + "' " + nodeId +
                ", beyond --max-nodes " + context.maxHosts);
        }
        return new Node(context, client, nodeId, relay);
    }

    private static String host(final String endpoint)
    {
        final int colon = endpoint.lastIndexOf(':');
        return colon > 0 ? endpoint.substring(0, colon) : endpoint;
    }

    /** The data directory belongs to one node name: recorded at its first start, checked at every start. */
    private static void claimName(final Path dir, final String name)
    {
        final Path file = dir.resolve(NAME_FILE);
        try
        {
            Files.createDirectories(dir);
            if (Files.isRegularFile(file))
            {
                final String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!owner.equals(name))
                {
                    throw new IllegalArgumentException(dir + " holds the journal of node '" + owner + "', not '" + name +
                        "': start that node here, or give '" + name + "' its own data directory");
                }
                return;
            }
            if (Files.exists(file))
            {
                throw new IllegalArgumentException("cannot create " + file + ": something that is not a file is in its place");
            }
            Files.writeString(file, name + "\n", StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot use " + dir + " as the node's data directory: " + ex.getMessage(), ex);
        }
    }

    /**
     * The registry thread's duties, every directory period: the load report (for operators), the
     * directory when it changed (a node joined, came back, or went down), the rules when they changed, and
     * where this node's VMs' rule partners run ({@link #learnPartners}).
     */
    private void duties(final RegistryClient client)
    {
        final Cluster running = cluster;
        final long now = System.nanoTime();
        if (running == null || closing || now - nextDirectoryNs < 0)
        {
            return;
        }
        nextDirectoryNs = now + TimeUnit.MILLISECONDS.toNanos(context.directoryPeriodMs);
        // one REPORT a period; the directory (O(nodes) to read) only when its version says it changed
        final int version = client.report(running.load(hostId), running.host(hostId).vmCount());
        if (version != knownDirectoryVersion)
        {
            learn(client.directory());
            knownDirectoryVersion = version;
        }
        if (client.reportedPlacementVersion() != knownPlacementVersion)
        {
            // the services and rules changed (here or at another node): follow the registry's
            final RegistryClient.PlacementCopy copy = client.placement();
            knownPlacementVersion = copy.version();
            adopter.execute(() ->
            {
                if (!closing)
                {
                    running.adoptPlacement(copy.statements());
                }
            });
        }
        learnPartners(client, running);
        if (context.writeTraffic)
        {
            writeTraffic(client, running);
        }
    }

    /**
     * Where the VMs that share an affinity rule with this node's VMs run, from the registry ({@link
     * Cluster#peerOwners}): one QUERY each, so a period costs what the node's own rules name, nothing without
     * rules. On the registry thread, which owns the client.
     */
    private void learnPartners(final RegistryClient client, final Cluster running)
    {
        final java.util.Set<Long> partners = running.rulePartnersElsewhere();
        final java.util.Map<Long, Integer> where = new java.util.HashMap<>();
        for (final long vm : partners)
        {
            final RegistryClient.Ownership entry = client.query(vm);
            if (io.vmsched.aeron.registry.RegistryStatus.OK == entry.status())
            {
                where.put(vm, RegistryOwners.hostOf(entry.owner()));
            }
        }
        running.peerOwners(where);
    }

    /**
     * The node's traffic so far into {@value #TRAFFIC_FILE}, replaced whole: one {@code key value} a line,
     * message types by number, zero counts left out ({@code data.*}: the transport's frames, payload bytes;
     * {@code registry.*}: this node's commands and what the registry sent it; {@code *.driver.*}: each
     * media driver's system counters). On the registry thread, which owns the client.
     */
    private void writeTraffic(final RegistryClient client, final Cluster running)
    {
        final StringBuilder text = new StringBuilder(4096);
        text.append("time.ms ").append(System.currentTimeMillis()).append('\n');
        text.append("host ").append(hostId).append('\n');
        text.append("vms ").append(running.host(hostId).vmCount()).append('\n');
        for (int type = 0; type < AeronTransport.COUNTED_TYPES; type++)
        {
            counter(text, "data.sent." + type + ".messages", transport.sentMessages(type));
            counter(text, "data.sent." + type + ".bytes", transport.sentBytes(type));
            counter(text, "data.received." + type + ".messages", transport.receivedMessages(type));
            counter(text, "data.received." + type + ".bytes", transport.receivedBytes(type));
        }
        for (int type = 0; type < RegistryClient.COUNTED_TYPES; type++)
        {
            counter(text, "registry.sent." + type + ".messages", client.sentMessages(type));
            counter(text, "registry.sent." + type + ".bytes", client.sentBytes(type));
            counter(text, "registry.received." + type + ".messages", client.receivedMessages(type));
            counter(text, "registry.received." + type + ".bytes", client.receivedBytes(type));
        }
        counter(text, "registry.keepalives", client.keepAlives());
        transport.driverCounters().forEach((label, value) -> counter(text, "data.driver." + label.replace(' ', '_'), value));
        client.driverCounters().forEach((label, value) -> counter(text, "registry.driver." + label.replace(' ', '_'), value));
        final Path file = context.dataDir.resolve(TRAFFIC_FILE);
        final Path partial = context.dataDir.resolve(TRAFFIC_FILE + ".partial");
        try
        {
            Files.writeString(partial, text, StandardCharsets.UTF_8);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final IOException ex)
        {
            context.log.accept("cannot write " + file + ": " + ex.getMessage());
        }
    }

    private static void counter(final StringBuilder text, final String key, final long value)
    {
        if (value != 0)
        {
            text.append(key).append(' ').append(value).append('\n');
        }
    }

    /** Peers from the directory: their endpoints to the transport, their capacity and liveness to the host. */
    private void learn(final List<RegistryClient.NodeInfo> directory)
    {
        final Cluster running = cluster;
        for (final RegistryClient.NodeInfo peer : directory)
        {
            final int host = RegistryOwners.hostOf(peer.nodeId());
            if (host == hostId || host < 0 || host >= context.maxHosts)
            {
                continue;
            }
            transport.addPeer(host, peer.endpoint());
            if (running != null)
            {
                final java.util.Set<String> labels = io.vmsched.aeron.registry.RegistryState.placementLabels(peer.labels());
                adopter.execute(() -> running.peerLabels(host, labels)); // not on the registry thread: see adopter
                running.peer(host, peer.capacity(), peer.up() ? Math.max(0.0, peer.load()) : Double.NaN);
            }
        }
    }

    /** @return this node's host id (its registry node id - 1). */
    public int hostId()
    {
        return hostId;
    }

    /** @return the node's host, as an embedding program drives it (admissions go to this node's host). */
    public Cluster cluster()
    {
        return cluster;
    }

    /** @return this node's transport (its counters of refusals and deliveries). */
    public AeronTransport transport()
    {
        return transport;
    }

    /** @return this node's registry session. */
    public RegistryOwners owners()
    {
        return owners;
    }

    /** @return this node's capacity, as registered. */
    public HostCapacity capacity()
    {
        return capacity;
    }

    /** Settle what was accepted, stop the host, leave the registry (its session closes), stop the transport. */
    @Override
    public void close()
    {
        closing = true; // the registry thread's duties stop reading the host
        try
        {
            cluster.close();
        }
        finally
        {
            adopter.shutdownNow();
            owners.close();
            transport.close();
        }
    }

    /** A node's settings. */
    public static final class Context
    {
        String name;
        String bind;
        String registry;
        byte[] secret;
        Path dataDir;
        String labels = "";
        int maxHosts = 1024;
        long connectTimeoutMs = 10_000;
        long directoryPeriodMs = 1_000;
        boolean writeTraffic = Boolean.getBoolean("vmsched.node.traffic");
        HostConfig host = defaultHost();
        GuestRegistry guests = GuestRegistry.withDefaults();
        ClusterListener listener = new ClusterListener()
        {
        };
        Consumer<String> log = System.err::println;

        /**
         * A node's agent's idle strategy by default ({@link io.vmsched.dispatch.Idle#polling()}): with it the agent
         * also runs the transport's media driver ({@link AeronTransport.Context#driverOnPoller}); a host given
         * another keeps the driver on a thread of its own.
         */
        public static final java.util.function.Supplier<org.agrona.concurrent.IdleStrategy> AGENT_RUNS_DRIVER =
            io.vmsched.dispatch.Idle::polling;

        /** A node's workers' nice value ({@link HostConfig#workerNice}): 19, the lowest: the guests take what the agent, the transport and the registry leave. */
        public static final int DEFAULT_WORKER_NICE = 19;

        /**
         * @return a host's defaults with the gossip view (a node knows its peers' loads by their gossip) and the
         * workers at {@link #DEFAULT_WORKER_NICE}.
         */
        public static HostConfig defaultHost()
        {
            final HostConfig host = new HostConfig();
            host.balance.view = BalanceConfig.PeerView.GOSSIP;
            host.workerNice = DEFAULT_WORKER_NICE; // a node's process is the host's: its guests yield to its messages
            host.agentIdleStrategy = AGENT_RUNS_DRIVER;
            return host;
        }

        /** @param name the node's name, unique in the cluster. @return this. */
        public Context name(final String name)
        {
            this.name = name;
            return this;
        }

        /** @param bind {@code host:port} this node listens on for its peers (an address, never all interfaces). @return this. */
        public Context bind(final String bind)
        {
            this.bind = bind;
            return this;
        }

        /** @param registry the registry's members as {@code vmsched registry --members} takes them, {@code 0=host:port,...}. @return this. */
        public Context registry(final String registry)
        {
            this.registry = registry;
            return this;
        }

        /** @param secret the cluster's secret (at least 32 bytes). @return this. */
        public Context secret(final byte[] secret)
        {
            this.secret = secret.clone();
            return this;
        }

        /** @param dataDir the node's own data directory. @return this. */
        public Context dataDir(final Path dataDir)
        {
            this.dataDir = dataDir;
            return this;
        }

        /** @param labels free text for the directory (e.g. {@code rack=a}). @return this. */
        public Context labels(final String labels)
        {
            this.labels = labels;
            return this;
        }

        /** @param maxHosts the most nodes the cluster may have (host ids below it). @return this. */
        public Context maxHosts(final int maxHosts)
        {
            this.maxHosts = maxHosts;
            return this;
        }

        /** @param ms how long to keep trying to reach the registry at the start. @return this. */
        public Context connectTimeoutMs(final long ms)
        {
            this.connectTimeoutMs = ms;
            return this;
        }

        /** @param ms how often the directory of peers is read again. @return this. */
        public Context directoryPeriodMs(final long ms)
        {
            this.directoryPeriodMs = ms;
            return this;
        }

        /**
         * @param write whether to write the node's traffic counters into {@value #TRAFFIC_FILE} in its data
         *              directory every directory period (default: the system property {@code vmsched.node.traffic}).
         * @return this.
         */
        public Context writeTraffic(final boolean write)
        {
            this.writeTraffic = write;
            return this;
        }

        /** @param host the host's settings (its balance view must be GOSSIP). @return this. */
        public Context host(final HostConfig host)
        {
            this.host = host;
            return this;
        }

        /** @param guests makes guests for VMs that arrive or are recovered. @return this. */
        public Context guests(final GuestRegistry guests)
        {
            this.guests = guests;
            return this;
        }

        /** @param listener told of the host's events. @return this. */
        public Context listener(final ClusterListener listener)
        {
            this.listener = listener;
            return this;
        }

        /** @param log where the node's one-line notices go. @return this. */
        public Context log(final Consumer<String> log)
        {
            this.log = log;
            return this;
        }

        void conclude()
        {
            if (name == null || name.isBlank())
            {
                throw new IllegalArgumentException("a node needs a name (--name)");
            }
            if (bind == null)
            {
                throw new IllegalArgumentException("a node needs an address to listen on (--bind HOST:PORT)");
            }
            if (registry == null || registry.isBlank())
            {
                throw new IllegalArgumentException("a node of a cluster needs the registry's members (--registry)");
            }
            if (secret == null)
            {
                throw new IllegalArgumentException("a node needs the cluster's secret (--secret FILE)");
            }
            if (dataDir == null)
            {
                throw new IllegalArgumentException("a node needs a data directory (--data)");
            }
            if (maxHosts < 2 || maxHosts > 1 << 16)
            {
                throw new IllegalArgumentException("max nodes must be in [2, 65536], got " + maxHosts);
            }
        }
    }
}
