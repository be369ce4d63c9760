package io.vmsched.aeron;

import io.aeron.Aeron;
import io.aeron.AeronCounters;
import io.aeron.CommonContext;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.AeronException;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.Header;
import io.vmsched.cluster.Transport;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

import static io.aeron.Aeron.NULL_VALUE;
import static io.vmsched.aeron.FrameDescriptor.HEADER_LENGTH;
import static io.vmsched.aeron.FrameDescriptor.MAC_LENGTH;

/**
 * The {@link Transport} SPI over Aeron UDP, for a host that runs in its own process (one host per
 * node). It embeds a media driver ({@link ThreadingMode#SHARED}, a backoff idle strategy: two
 * threads that sleep when idle, fit for a 2-core machine), subscribes on
 * {@code aeron:udp?endpoint=<bind>}, and opens an {@link ExclusivePublication} to a peer the first
 * time it sends to it. Every frame is authenticated ({@link FrameDescriptor}, {@link HmacSha256}
 * keyed from the cluster secret); what {@link #poll(int)} refuses is counted per {@link Refusal},
 * logged in one line, and changes nothing.
 * <p>
 * Threading: {@link #send} is threadsafe (one lock: a sequence number, its MAC and its offer must
 * reach the wire in the same order); {@link #poll(int)} belongs to one thread, the host's agent, and
 * delivers into the attached inbox; {@link #attach}, {@link #detach} and {@link #addPeer} may be
 * called from any thread. Close after the polling thread has stopped. Nothing is allocated per
 * message once a peer's publication exists.
 */
public final class AeronTransport implements Transport
{
    /** The Aeron stream every host subscribes on and publishes to. */
    public static final int STREAM_ID = 1601;
    /**
     * The transport's own message type (never delivered to an inbox): a host tells a peer its
     * incarnation, when it first sends to it and when it refuses a frame naming another.
     */
    public static final int HELLO = Integer.MAX_VALUE;
    static final long HELLO_INTERVAL_NS = 50_000_000L;
    /** From {@link Context#senderOffsets}: a type taken from peers without a sender field to check. */
    public static final int NO_SENDER_FIELD = -2;

    /** Message types below this are counted one by one ({@link #sentMessages(int)}); the others together under 0. */
    public static final int COUNTED_TYPES = 64;

    private static final int FRAGMENT_LIMIT_DEFAULT = 64;
    private static final long LOG_INTERVAL_MS = 1000;

    private final int hostId;
    private final String bind;
    private final int maxHosts;
    private final int maxPayloadLength;
    private final Consumer<String> log;
    private final java.util.function.IntUnaryOperator senderOffsets; // where each type names its sender
    private static final long CLOSE_LINGER_NS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);
    private final MediaDriver driver;
    // Context.driverOnPoller: the driver's and the client's duty cycles, run by poll (null: their own threads)
    private final org.agrona.concurrent.AgentInvoker driverInvoker;
    private final org.agrona.concurrent.AgentInvoker clientInvoker;
    private final java.util.concurrent.locks.Lock clientLock;
    // until the first poll (a node's agent starts after its recovery, which may take long) a thread of its own
    // runs them: a driver left alone past the client liveness timeout would end the client for good
    private final Thread untilPolled;
    private volatile boolean polled;
    private final Aeron aeron;
    private final Subscription subscription;

    // peer directory: hostId -> channel; read by the poller (is a sender known?) and the senders
    private final AtomicReferenceArray<String> channels;
    private volatile RingBuffer inbox;
    private volatile boolean closed;

    // send side: guarded by sendLock
    private final Object sendLock = new Object();
    private final ExclusivePublication[] publications;
    private final long[] pendingRegistrations;
    private final FrameCodec sendCodec;
    private long sequence;

    // receive side: the polling thread only
    private final FrameCodec receiveCodec;
    private final long[] lastAccepted;
    // this host's incarnation, drawn at each start: frames must name it, so none from before a restart passes
    private final int incarnation;
    // each peer's incarnation as its last HELLO said (0: not known yet); written by the polling thread
    private final java.util.concurrent.atomic.AtomicIntegerArray peerIncarnations;
    private final long[] lastHelloNs; // the polling thread's: HELLOs answering stale frames, at most one per peer per interval
    private final UnsafeBuffer helloPayload = new UnsafeBuffer(new byte[Integer.BYTES]);
    private final long[] lastLogMs;
    private final long[] unloggedSince;
    private final ControlledFragmentAssembler assembler;

    // counters: single writer (the poller), read by anyone
    private final AtomicLongArray refusals = new AtomicLongArray(Refusal.values().length);
    private final AtomicLongArray delivered = new AtomicLongArray(1);
    // traffic by message type (types at or above COUNTED_TYPES counted under 0): the sent ones written
    // under sendLock, the received ones by the poller; read by anyone
    private final AtomicLongArray sentMessages = new AtomicLongArray(COUNTED_TYPES);
    private final AtomicLongArray sentBytes = new AtomicLongArray(COUNTED_TYPES);
    private final AtomicLongArray receivedMessages = new AtomicLongArray(COUNTED_TYPES);
    private final AtomicLongArray receivedBytes = new AtomicLongArray(COUNTED_TYPES);

    /**
     * Start the media driver and the subscription.
     *
     * @param context the node's settings; {@link Context#conclude()} is called here.
     * @throws IllegalStateException with one line if the bind address cannot be used.
     */
    public AeronTransport(final Context context)
    {
        context.conclude();
        hostId = context.hostId;
        bind = context.bind;
        maxHosts = context.maxHosts;
        maxPayloadLength = context.maxPayloadLength();
        log = context.log;
        senderOffsets = context.senderOffsets;
        channels = new AtomicReferenceArray<>(maxHosts);
        publications = new ExclusivePublication[maxHosts];
        pendingRegistrations = new long[maxHosts];
        Arrays.fill(pendingRegistrations, NULL_VALUE);
        lastAccepted = new long[maxHosts];
        int drawn = 0;
        final java.security.SecureRandom random = new java.security.SecureRandom();
        while (drawn == 0)
        {
            drawn = random.nextInt();
        }
        incarnation = drawn;
        peerIncarnations = new java.util.concurrent.atomic.AtomicIntegerArray(maxHosts);
        lastHelloNs = new long[maxHosts];
        java.util.Arrays.fill(lastHelloNs, System.nanoTime() - HELLO_INTERVAL_NS);
        helloPayload.putInt(0, incarnation, io.vmsched.handoff.HostMessages.ORDER);
        lastLogMs = new long[Refusal.values().length];
        unloggedSince = new long[Refusal.values().length];
        sendCodec = new FrameCodec(HmacSha256.forDataPlane(context.secret), maxPayloadLength);
        receiveCodec = new FrameCodec(HmacSha256.forDataPlane(context.secret), maxPayloadLength);
        assembler = new ControlledFragmentAssembler(this::onFrame);
        // a restarted sender must start above every sequence it sent before: milliseconds since the
        // epoch, times 2^20 (room for a million messages per millisecond of uptime, good to the year 2250)
        sequence = System.currentTimeMillis() << 20;

        MediaDriver startedDriver = null;
        Aeron startedAeron = null;
        try
        {
            startedDriver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(context.aeronDirectoryName)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .threadingMode(context.driverOnPoller ? ThreadingMode.INVOKER : ThreadingMode.SHARED)
                // a starved machine (a 2-core host running its guests) must not lose its clients: 30 s, not 10
                .clientLivenessTimeoutNs(java.util.concurrent.TimeUnit.SECONDS.toNanos(30))
                .publicationUnblockTimeoutNs(java.util.concurrent.TimeUnit.SECONDS.toNanos(45)) // must exceed the liveness timeout
                .sharedIdleStrategy(context.driverIdleStrategy)
                .termBufferSparseFile(true)
                // Aeron's default counters make a 47 MB cnc.dat, 16 MB with 16,384 counters (a peer directory of
                // about 1,800 hosts: 9 counters a peer); the error log's 4 MB is Aeron's least
                .counterValuesBufferLength(2 << 20)
                .publicationTermBufferLength(context.termLength)
                .ipcTermBufferLength(context.termLength)
                .printConfigurationOnStart(false)
                .errorHandler(ex -> log.accept("aeron-transport host " + hostId + ": media driver: " + oneLine(ex))));
            final org.agrona.concurrent.AgentInvoker invoker = startedDriver.sharedAgentInvoker();
            if (null != invoker && !invoker.isStarted())
            {
                invoker.start();
            }
            startedAeron = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(startedDriver.aeronDirectoryName())
                // the client runs the driver while it awaits a reply, under its lock (see poll)
                .driverAgentInvoker(invoker)
                .useConductorAgentInvoker(context.driverOnPoller)
                .driverTimeoutMs(30_000)
                .idleStrategy(new SleepingMillisIdleStrategy(1))
                .errorHandler(ex -> log.accept("aeron-transport host " + hostId + ": aeron client: " + oneLine(ex))));
            subscription = startedAeron.addSubscription(channel(bind), STREAM_ID);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(startedAeron, startedDriver);
            final String why = String.valueOf(ex.getMessage()).contains("Address already in use") ?
                "the port is in use (another node on this address?)" : oneLine(ex);
            throw new IllegalStateException("aeron-transport host " + hostId + ": cannot listen on " + bind + ": " + why, ex);
        }
        driver = startedDriver;
        aeron = startedAeron;
        driverInvoker = startedDriver.sharedAgentInvoker();
        clientInvoker = context.driverOnPoller ? startedAeron.conductorAgentInvoker() : null;
        clientLock = startedAeron.context().clientLock();
        if (context.driverOnPoller)
        {
            untilPolled = new Thread(this::runUntilPolled, "aeron-transport-" + hostId + "-until-polled");
            untilPolled.setDaemon(true);
            untilPolled.start();
        }
        else
        {
            untilPolled = null;
        }
        for (final Map.Entry<Integer, String> peer : context.peers.entrySet())
        {
            addPeer(peer.getKey(), peer.getValue());
        }
    }

    /** @return this node's host id (the sender id in every frame it writes). */
    public int hostId()
    {
        return hostId;
    }

    /** @return the address the subscription listens on. */
    public String bind()
    {
        return bind;
    }

    /** @return the embedded media driver's directory (deleted on close). */
    public String aeronDirectoryName()
    {
        return driver.aeronDirectoryName();
    }

    /** @return the largest payload {@link #send} takes. */
    public int maxPayloadLength()
    {
        return maxPayloadLength;
    }

    /**
     * Add a peer to the directory, or move it to a new endpoint. Frames from a host not in the
     * directory are refused ({@link Refusal#UNKNOWN_SENDER}).
     *
     * @param peerId   the peer's host id.
     * @param endpoint its subscription's {@code host:port}.
     * @throws IllegalArgumentException with one line for a bad id or endpoint.
     */
    public void addPeer(final int peerId, final String endpoint)
    {
        checkHostId(peerId, maxHosts);
        final String channel = channel(checkEndpoint(endpoint, "peer " + peerId));
        synchronized (sendLock)
        {
            if (!channel.equals(channels.get(peerId)))
            {
                closePublication(peerId);
                channels.set(peerId, channel);
            }
        }
    }

    @Override
    public void attach(final int hostId, final RingBuffer inbox)
    {
        if (hostId != this.hostId)
        {
            throw new IllegalArgumentException("aeron-transport of host " + this.hostId + " cannot attach host " + hostId +
                ": one host per node, the others are peers (addPeer)");
        }
        this.inbox = inbox;
    }

    /**
     * Forget a host. This node's own host: frames for it are refused ({@link Refusal#NO_INBOX}) until
     * it is attached again. A peer: it leaves the directory, its publication is closed, and its
     * frames are refused as from an unknown sender; the last sequence accepted from it is kept, so
     * nothing it sent before can be replayed if it comes back.
     */
    @Override
    public void detach(final int hostId)
    {
        if (hostId == this.hostId)
        {
            inbox = null;
            return;
        }
        if (hostId >= 0 && hostId < maxHosts)
        {
            synchronized (sendLock)
            {
                closePublication(hostId);
                channels.set(hostId, null);
            }
        }
    }

    /**
     * Send an authenticated frame to a peer (or straight into this node's own inbox). Never blocks
     * on the network: the first send to a peer asks the driver for a publication and returns false,
     * as does a send while the peer is not connected or is back-pressured.
     *
     * @throws IllegalArgumentException if {@code type} is not positive (as the inbox ring would).
     * @return true if the frame was handed to Aeron (or to the local inbox); false if the peer is
     *         unknown, not yet connected, back-pressured, or the payload exceeds
     *         {@link #maxPayloadLength()}.
     */
    @Override
    public boolean send(final int toHost, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        if (type < 1 || type == HELLO)
        {
            throw new IllegalArgumentException("message type must be positive and not the transport's HELLO, got " + type);
        }
        if (toHost == hostId)
        {
            final RingBuffer local = inbox;
            return local != null && length <= local.maxMsgLength() && local.write(type, buffer, offset, length);
        }
        if (toHost < 0 || toHost >= maxHosts || length < 0 || length > maxPayloadLength)
        {
            return false;
        }
        synchronized (sendLock)
        {
            if (closed)
            {
                return false;
            }
            final ExclusivePublication publication = publication(toHost);
            if (publication == null || !publication.isConnected())
            {
                return false; // not yet: the driver is still setting it up, or nobody listens there
            }
            if (publication.availableWindow() < FrameDescriptor.frameLength(length))
            {
                return false; // back-pressured: say so before paying for a MAC (offer would say it too)
            }
            final int peerIncarnation = peerIncarnations.get(toHost);
            if (peerIncarnation == 0)
            {
                // the peer's incarnation is not known yet: introduce this host; its HELLO back tells it
                offerHello(publication, toHost);
                return false;
            }
            final int frameLength = sendCodec.encode(type, hostId, toHost, ++sequence, buffer, offset, length, peerIncarnation);
            sendCodec.sign(length);
            long result = publication.offer(sendCodec.buffer(), 0, frameLength);
            if (result == Publication.ADMIN_ACTION)
            {
                // the offer that finds its term full rotates it and says so; the next one goes into the new term
                // (said false before, it aborted a handoff's transfer once a term, every 1 MiB sent)
                result = publication.offer(sendCodec.buffer(), 0, frameLength);
            }
            if (result > 0)
            {
                final int counted = type < COUNTED_TYPES ? type : 0;
                sentMessages.lazySet(counted, sentMessages.get(counted) + 1); // single writer: under sendLock
                sentBytes.lazySet(counted, sentBytes.get(counted) + length);
                return true;
            }
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
            {
                closePublication(toHost); // the next send opens a new one
            }
            return false; // NOT_CONNECTED, BACK_PRESSURED, ADMIN_ACTION: the caller retries later
        }
    }

    /** Caller holds sendLock. A HELLO to a peer: this host's incarnation, stamped with the peer's as known. */
    private void offerHello(final ExclusivePublication publication, final int toHost)
    {
        final int frameLength = sendCodec.encode(HELLO, hostId, toHost, ++sequence, helloPayload, 0, Integer.BYTES,
            peerIncarnations.get(toHost));
        sendCodec.sign(Integer.BYTES);
        publication.offer(sendCodec.buffer(), 0, frameLength); // lost or not: the next send or refusal says it again
    }

    /** Polling thread: tell a peer this host's incarnation, at most once an interval. */
    private void helloTo(final int peer)
    {
        final long now = System.nanoTime();
        if (now - lastHelloNs[peer] < HELLO_INTERVAL_NS)
        {
            return;
        }
        lastHelloNs[peer] = now;
        synchronized (sendLock)
        {
            if (closed)
            {
                return;
            }
            final ExclusivePublication publication = publication(peer);
            if (publication != null && publication.isConnected())
            {
                offerHello(publication, peer);
            }
        }
    }

    /**
     * {@inheritDoc} Learned from the peer's HELLO: when it first speaks, and when it refused a frame naming another.
     */
    @Override
    public int peerIncarnation(final int host)
    {
        return host >= 0 && host < maxHosts ? peerIncarnations.get(host) : 0;
    }

    /** @return this host's incarnation (drawn at start; tests). */
    public int incarnation()
    {
        return incarnation;
    }

    /**
     * Read what has arrived: verify each frame and write the ones accepted into the attached inbox.
     * A frame that meets a full inbox stays in Aeron's buffer and is read again next time (Aeron's
     * flow control then holds back the sender).
     * <p>
     * With {@link Context#driverOnPoller}, it first runs a duty cycle of the media driver (sending what was
     * offered, receiving what came) and of the Aeron client.
     * <p>
     * <b>Note:</b> the polling thread only (the host's agent, once per duty cycle).
     *
     * @param fragmentLimit the most Aeron fragments to read.
     * @return the fragments read, and the driver's and client's work (0 when idle).
     */
    public int poll(final int fragmentLimit)
    {
        if (closed)
        {
            return 0;
        }
        if (null != untilPolled && !polled)
        {
            polled = true; // from now on this thread runs the driver
            joinQuietly(untilPolled);
        }
        return runDriver() + subscription.controlledPoll(assembler, fragmentLimit);
    }

    /** @return the work of one duty cycle of the driver and the client, when they run on the poller (else 0). */
    private int runDriver()
    {
        int work = 0;
        if (null != driverInvoker && clientLock.tryLock())
        {
            // invariant: one thread at a time runs the driver; a client call that awaits the driver runs it
            // under this lock too (busy: that thread does this cycle's work)
            try
            {
                work += driverInvoker.invoke();
            }
            finally
            {
                clientLock.unlock();
            }
        }
        if (null != clientInvoker)
        {
            work += clientInvoker.invoke();
        }
        return work;
    }

    private void runUntilPolled()
    {
        final IdleStrategy idle = io.vmsched.dispatch.Idle.polling(); // as the agent that takes over
        while (!polled && !closed)
        {
            idle.idle(runDriver());
        }
    }

    private static void joinQuietly(final Thread thread)
    {
        try
        {
            thread.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** @return {@link #poll(int)} with a default fragment limit: the host's agent calls it each duty cycle. */
    @Override
    public int poll()
    {
        return poll(FRAGMENT_LIMIT_DEFAULT);
    }

    /**
     * @param refusal a reason.
     * @return how many frames were refused for it.
     */
    public long refusals(final Refusal refusal)
    {
        return refusals.get(refusal.ordinal());
    }

    /** @return how many frames were refused, all reasons together. */
    public long refusals()
    {
        long sum = 0;
        for (int i = 0; i < refusals.length(); i++)
        {
            sum += refusals.get(i);
        }
        return sum;
    }

    /** @return how many frames were accepted and written into the inbox. */
    public long delivered()
    {
        return delivered.get(0);
    }

    /**
     * @param type a message type (below {@link #COUNTED_TYPES}; 0: every type at or above it).
     * @return frames of that type handed to Aeron for a peer (sends to this node's own inbox are not counted).
     */
    public long sentMessages(final int type)
    {
        return sentMessages.get(type);
    }

    /**
     * @param type a message type, as {@link #sentMessages(int)}.
     * @return the payload bytes of those frames (each frame adds {@link FrameDescriptor#HEADER_LENGTH} and
     *         {@link FrameDescriptor#MAC_LENGTH}).
     */
    public long sentBytes(final int type)
    {
        return sentBytes.get(type);
    }

    /**
     * @param type a message type, as {@link #sentMessages(int)}.
     * @return frames of that type accepted from peers and written into the inbox.
     */
    public long receivedMessages(final int type)
    {
        return receivedMessages.get(type);
    }

    /**
     * @param type a message type, as {@link #sentMessages(int)}.
     * @return the payload bytes of those frames.
     */
    public long receivedBytes(final int type)
    {
        return receivedBytes.get(type);
    }

    /**
     * @return the embedded media driver's system counters by label ("Bytes sent", "Heartbeats sent"...):
     *         everything this transport put on the wire, Aeron's own frames included.
     */
    public Map<String, Long> driverCounters()
    {
        return systemCounters(aeron);
    }

    /**
     * @param aeron a client of a media driver.
     * @return that driver's system counters by label.
     */
    public static Map<String, Long> systemCounters(final Aeron aeron)
    {
        final Map<String, Long> counters = new TreeMap<>();
        final CountersReader reader = aeron.countersReader();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            if (typeId == AeronCounters.DRIVER_SYSTEM_COUNTER_TYPE_ID)
            {
                counters.put(label, reader.getCounterValue(counterId));
            }
        });
        return counters;
    }

    /**
     * @param peerId a peer.
     * @return whether a publication to it exists and is connected.
     */
    public boolean isConnected(final int peerId)
    {
        synchronized (sendLock)
        {
            final ExclusivePublication p = peerId >= 0 && peerId < maxHosts ? publications[peerId] : null;
            return p != null && p.isConnected();
        }
    }

    /** Close the publications, the subscription, the client and the media driver, whose directory goes too. */
    @Override
    public void close()
    {
        if (null != untilPolled && polled && !closed)
        {
            // the poller has stopped: what it offered last (an answer, a resolve) goes out before the close
            final long deadline = System.nanoTime() + CLOSE_LINGER_NS;
            int idleCycles = 0;
            while (idleCycles < 10 && System.nanoTime() - deadline < 0)
            {
                idleCycles = runDriver() == 0 ? idleCycles + 1 : 0;
                Thread.onSpinWait();
            }
        }
        synchronized (sendLock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            for (int i = 0; i < maxHosts; i++)
            {
                closePublication(i);
            }
        }
        if (null != untilPolled)
        {
            joinQuietly(untilPolled);
        }
        CloseHelper.closeAll(subscription, aeron, driver);
    }

    // The invariant of the receive path: a frame reaches the inbox only if it has this version, is
    // exactly as long as its header says, carries a MAC made with the cluster key over every byte
    // before it, comes from a sender in the directory, is for this host, and has a sequence number
    // greater than the last accepted from that sender. A refused frame is counted and logged and
    // changes nothing (lastAccepted moves only once the frame is in the inbox), so a forger learns
    // nothing by sending and can never make a later genuine frame look like a replay.
    private ControlledFragmentHandler.Action onFrame(
        final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final FrameCodec codec = receiveCodec;
        Refusal refusal = codec.copyIn(buffer, offset, length);
        refusal = refusal == null ? codec.checkLayout(length) : refusal;
        if (refusal != null)
        {
            return refuse(refusal, header, -1);
        }
        if (!codec.verify())
        {
            return refuse(Refusal.BAD_MAC, header, -1);
        }
        final UnsafeBuffer frame = codec.buffer();
        final int payloadLength = FrameDescriptor.payloadLength(frame);
        if (FrameDescriptor.type(frame) < 1)
        {
            return refuse(Refusal.MALFORMED, header, -1); // the inbox takes positive types only
        }
        final int sender = FrameDescriptor.sender(frame);
        if (sender < 0 || sender >= maxHosts || sender == hostId || channels.get(sender) == null)
        {
            return refuse(Refusal.UNKNOWN_SENDER, header, sender);
        }
        if (FrameDescriptor.target(frame) != hostId)
        {
            return refuse(Refusal.WRONG_TARGET, header, sender);
        }
        if (FrameDescriptor.sequence(frame) <= lastAccepted[sender])
        {
            return refuse(Refusal.REPLAY, header, sender);
        }
        if (FrameDescriptor.type(frame) == HELLO)
        {
            if (payloadLength != Integer.BYTES)
            {
                return refuse(Refusal.MALFORMED, header, sender);
            }
            lastAccepted[sender] = FrameDescriptor.sequence(frame);
            peerIncarnations.set(sender, frame.getInt(HEADER_LENGTH, io.vmsched.handoff.HostMessages.ORDER));
            if (FrameDescriptor.targetIncarnation(frame) != incarnation)
            {
                helloTo(sender); // it does not know this incarnation yet: say it back
            }
            return ControlledFragmentHandler.Action.CONTINUE;
        }
        if (FrameDescriptor.targetIncarnation(frame) != incarnation)
        {
            helloTo(sender); // a peer not yet told (or a replay, which the HELLO does no harm to)
            return refuse(Refusal.STALE_INCARNATION, header, sender);
        }
        // a member speaks for itself only: the payload's sender is the one that signed the frame
        final int senderOffset = senderOffsets.applyAsInt(FrameDescriptor.type(frame));
        if (senderOffset == -1)
        {
            return refuse(Refusal.NOT_A_PEER_MESSAGE, header, sender);
        }
        if (senderOffset >= 0 && payloadLength < senderOffset + Integer.BYTES)
        {
            return refuse(Refusal.TRUNCATED, header, sender);
        }
        if (senderOffset >= 0 && frame.getInt(HEADER_LENGTH + senderOffset, io.vmsched.handoff.HostMessages.ORDER) != sender)
        {
            return refuse(Refusal.SENDER_MISMATCH, header, sender);
        }
        final RingBuffer target = inbox;
        if (target == null)
        {
            return refuse(Refusal.NO_INBOX, header, sender);
        }
        if (payloadLength > target.maxMsgLength())
        {
            return refuse(Refusal.TOO_LONG, header, sender);
        }
        if (!target.write(FrameDescriptor.type(frame), frame, HEADER_LENGTH, payloadLength))
        {
            return ControlledFragmentHandler.Action.ABORT; // inbox full: read again on a later poll
        }
        lastAccepted[sender] = FrameDescriptor.sequence(frame);
        delivered.lazySet(0, delivered.get(0) + 1);
        final int counted = FrameDescriptor.type(frame) < COUNTED_TYPES ? FrameDescriptor.type(frame) : 0;
        receivedMessages.lazySet(counted, receivedMessages.get(counted) + 1); // single writer: the polling thread
        receivedBytes.lazySet(counted, receivedBytes.get(counted) + payloadLength);
        return ControlledFragmentHandler.Action.CONTINUE;
    }

    private ControlledFragmentHandler.Action refuse(final Refusal refusal, final Header header, final int sender)
    {
        final int i = refusal.ordinal();
        refusals.lazySet(i, refusals.get(i) + 1); // single writer: the polling thread
        final long nowMs = System.currentTimeMillis();
        if (nowMs - lastLogMs[i] >= LOG_INTERVAL_MS)
        {
            final long unlogged = unloggedSince[i];
            lastLogMs[i] = nowMs;
            unloggedSince[i] = 0;
            final Object source = header.context();
            log.accept("aeron-transport host " + hostId + ": refused a frame" +
                (sender >= 0 ? " from host " + sender : "") +
                (source instanceof Image ? " (source " + ((Image)source).sourceIdentity() + ")" : "") +
                ": " + refusal.reason() +
                (unlogged > 0 ? " (and " + unlogged + " more for this reason in the last second, not logged)" : ""));
        }
        else
        {
            unloggedSince[i]++;
        }
        return ControlledFragmentHandler.Action.CONTINUE;
    }

    private ExclusivePublication publication(final int peerId)
    {
        final ExclusivePublication existing = publications[peerId];
        if (existing != null)
        {
            return existing;
        }
        final String channel = channels.get(peerId);
        if (channel == null)
        {
            return null;
        }
        try
        {
            final long registration = pendingRegistrations[peerId];
            if (registration == NULL_VALUE)
            {
                pendingRegistrations[peerId] = aeron.asyncAddExclusivePublication(channel, STREAM_ID);
                return null;
            }
            final ExclusivePublication publication = aeron.getExclusivePublication(registration);
            if (publication != null)
            {
                publications[peerId] = publication;
                pendingRegistrations[peerId] = NULL_VALUE;
            }
            return publication;
        }
        catch (final AeronException ex)
        {
            pendingRegistrations[peerId] = NULL_VALUE; // try again on a later send
            log.accept("aeron-transport host " + hostId + ": cannot open a publication to host " + peerId + ": " + oneLine(ex));
            return null;
        }
    }

    private void closePublication(final int peerId)
    {
        CloseHelper.quietClose(publications[peerId]);
        publications[peerId] = null;
        if (pendingRegistrations[peerId] != NULL_VALUE)
        {
            try
            {
                CloseHelper.quietClose(aeron.getExclusivePublication(pendingRegistrations[peerId]));
            }
            catch (final AeronException ignore)
            {
                // it failed anyway: nothing to close
            }
            pendingRegistrations[peerId] = NULL_VALUE;
        }
    }

    private static String channel(final String endpoint)
    {
        return "aeron:udp?endpoint=" + endpoint;
    }

    private static String oneLine(final Throwable ex)
    {
        final String message = ex.getMessage();
        return (message == null ? ex.getClass().getSimpleName() : message).replace('\n', ' ');
    }

    static void checkHostId(final int id, final int maxHosts)
    {
        if (id < 0 || id >= maxHosts)
        {
            throw new IllegalArgumentException("host id " + id + " is out of range 0.." + (maxHosts - 1) + " (raise maxHosts)");
        }
    }

    static String checkEndpoint(final String endpoint, final String what)
    {
        final int colon = endpoint == null ? -1 : endpoint.lastIndexOf(':');
        if (colon <= 0)
        {
            throw new IllegalArgumentException(what + ": endpoint '" + endpoint + "' is not host:port");
        }
        final int port;
        try
        {
            port = Integer.parseInt(endpoint.substring(colon + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(what + ": endpoint '" + endpoint + "' has no port number");
        }
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException(what + ": endpoint '" + endpoint + "' has port " + port + ", not 1..65535");
        }
        return endpoint;
    }

    /**
     * A node's transport settings. Required: {@link #hostId}, {@link #bind} and {@link #secret}.
     * <p>
     * <b>Note:</b> Not threadsafe: fill it in, then hand it to the constructor.
     */
    public static final class Context
    {
        private int hostId = -1;
        private String bind;
        private byte[] secret;
        private int maxHosts = 1024;
        private int termLength = 1 << 20;
        private String aeronDirectoryName;
        private IdleStrategy driverIdleStrategy;
        private boolean driverOnPoller;
        private Consumer<String> log = System.err::println;
        private final Map<Integer, String> peers = new TreeMap<>();
        private java.util.function.IntUnaryOperator senderOffsets = io.vmsched.handoff.HostMessages::senderOffset;

        /**
         * @param senderOffsets where each message type names its sender in the payload (checked against
         *                      the sender that signed the frame); -1 refuses the type from peers;
         *                      {@link AeronTransport#NO_SENDER_FIELD} takes it unchecked (a test of the
         *                      transport alone). Default: {@link io.vmsched.handoff.HostMessages#senderOffset}.
         * @return this.
         */
        public Context senderOffsets(final java.util.function.IntUnaryOperator senderOffsets)
        {
            this.senderOffsets = senderOffsets;
            return this;
        }

        /** @param hostId this node's host id. @return this. */
        public Context hostId(final int hostId)
        {
            this.hostId = hostId;
            return this;
        }

        /**
         * @param bind {@code host:port} the subscription listens on. Always given: there is no
         *             default, and in particular never all interfaces.
         * @return this.
         */
        public Context bind(final String bind)
        {
            this.bind = bind;
            return this;
        }

        /**
         * @param secret the cluster secret (see {@link ClusterSecret#read}); the data-plane key is
         *               derived from it.
         * @return this.
         */
        public Context secret(final byte[] secret)
        {
            this.secret = secret.clone();
            return this;
        }

        /** @param maxHosts the highest host id + 1 (default 1024). @return this. */
        public Context maxHosts(final int maxHosts)
        {
            this.maxHosts = maxHosts;
            return this;
        }

        /**
         * @param termLength Aeron term length of the publications (power of two, 64 KiB..1 GiB,
         *                   default 1 MiB: the largest message is an eighth of it; sparse files).
         * @return this.
         */
        public Context termLength(final int termLength)
        {
            this.termLength = termLength;
            return this;
        }

        /** @param name the media driver's directory (default: unique under Aeron's default, deleted on close). @return this. */
        public Context aeronDirectoryName(final String name)
        {
            this.aeronDirectoryName = name;
            return this;
        }

        /**
         * Run the media driver and the Aeron client on the thread that calls {@link #poll} (Aeron's INVOKER
         * mode) instead of a thread of their own: a message crosses one thread less on each side, and the node
         * has one thread less. The poller must then poll often even when idle (a message that arrives waits for
         * the next poll; {@link io.vmsched.dispatch.Idle#polling()} parks at most 100 µs) and never stop for
         * long (the driver's heartbeats and the peers' liveness wait for it). Default false: a transport that
         * only sends, or is polled now and then, keeps its driver thread.
         *
         * @param onPoller whether poll runs the driver. @return this.
         */
        public Context driverOnPoller(final boolean onPoller)
        {
            this.driverOnPoller = onPoller;
            return this;
        }

        /** @param idleStrategy the shared driver thread's idle strategy (default: backoff to 1 ms parks). @return this. */
        public Context driverIdleStrategy(final IdleStrategy idleStrategy)
        {
            this.driverIdleStrategy = idleStrategy;
            return this;
        }

        /** @param log where refusals and errors go, one line each (default: standard error). @return this. */
        public Context log(final Consumer<String> log)
        {
            this.log = log;
            return this;
        }

        /**
         * @param peerId   a peer's host id.
         * @param endpoint its {@code host:port}.
         * @return this.
         */
        public Context peer(final int peerId, final String endpoint)
        {
            peers.put(peerId, endpoint);
            return this;
        }

        int maxPayloadLength()
        {
            // Aeron's largest message is an eighth of the term; the frame adds a header and a MAC
            return Math.min(termLength / 8, 16 << 20) - HEADER_LENGTH - MAC_LENGTH;
        }

        /** Check the settings and fill in the defaults. @throws IllegalArgumentException with one line. */
        void conclude()
        {
            if (maxHosts < 1)
            {
                throw new IllegalArgumentException("maxHosts must be at least 1, got " + maxHosts);
            }
            checkHostId(hostId, maxHosts);
            checkEndpoint(bind, "host " + hostId + " bind");
            if (secret == null || secret.length == 0)
            {
                throw new IllegalArgumentException("host " + hostId + ": no cluster secret given");
            }
            if (Integer.bitCount(termLength) != 1 || termLength < (64 << 10) || termLength > (1 << 30))
            {
                throw new IllegalArgumentException("term length must be a power of two in 64 KiB..1 GiB, got " + termLength);
            }
            if (aeronDirectoryName == null)
            {
                aeronDirectoryName = CommonContext.getAeronDirectoryName() + "-vmsched-host" + hostId + "-" + UUID.randomUUID();
            }
            if (driverIdleStrategy == null)
            {
                driverIdleStrategy = io.vmsched.dispatch.Idle.receiving();
            }
            for (final Map.Entry<Integer, String> peer : peers.entrySet())
            {
                checkHostId(peer.getKey(), maxHosts);
                checkEndpoint(peer.getValue(), "peer " + peer.getKey());
            }
        }
    }
}
