package io.vmsched.aeron.registry;

import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredService;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.vmsched.load.HostCapacity;
import io.vmsched.placement.ServiceStatus;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.IdleStrategy;

import java.util.function.Consumer;

/**
 * The registry as an Aeron Cluster service: decodes each command of a client session
 * ({@link RegistryMessages}), applies it to its {@link RegistryState} and replies on the session.
 * The cluster applies commands in log order on every member, so every member's state is the same;
 * only the leader's replies reach the clients (a follower's {@code ClientSession.offer} does nothing).
 * <p>
 * A session that closes or times out marks its node down and every session is told (NODE_DOWN). A
 * REPORT is stored with the command's cluster time (the log's timestamp, the same on every member). A
 * DIRECTORY is answered one page at a time ({@link #writeDirectoryPage}). A snapshot is the state's bytes
 * ({@link RegistryState#snapshot}) in chunks after a small header.
 * <p>
 * <b>Note:</b> Not threadsafe: every callback runs on the service container's thread; the counters
 * are read by other threads for tests and tools.
 */
public final class RegistryService implements ClusteredService
{
    /** The largest chunk of a snapshot in one message (well under a 64 KiB term's largest message). */
    static final int SNAPSHOT_CHUNK = 4 * 1024;
    static final int SNAPSHOT_HEADER = 16; // 0 4 magic | 4 4 version | 8 8 total length
    static final int SNAPSHOT_STREAM_MAGIC = 0x53455256; // "VRES"
    /** Give up on a reply after this many failed offers: a client that cannot take it will time out and ask again. */
    static final int OFFER_ATTEMPTS = 1_000;

    private final RegistryState state = new RegistryState();
    private final Consumer<String> log;
    private final ExpandableArrayBuffer replyBuffer = new ExpandableArrayBuffer(64);
    private final ExpandableArrayBuffer snapshotBuffer = new ExpandableArrayBuffer(4096);
    private final RegistryMessages.Register register = new RegistryMessages.Register();
    private final RegistryMessages.Admit admit = new RegistryMessages.Admit();
    private final RegistryMessages.Cas cas = new RegistryMessages.Cas();
    private final RegistryMessages.Query query = new RegistryMessages.Query();
    private final RegistryMessages.Move move = new RegistryMessages.Move();
    private final RegistryMessages.Release release = new RegistryMessages.Release();
    private final RegistryMessages.Reclaim reclaim = new RegistryMessages.Reclaim();
    private final RegistryMessages.Report report = new RegistryMessages.Report();
    private final RegistryMessages.Directory directory = new RegistryMessages.Directory();
    private final RegistryMessages.Registered registered = new RegistryMessages.Registered();
    private final RegistryMessages.Owner owner = new RegistryMessages.Owner();
    private final RegistryMessages.Reported reported = new RegistryMessages.Reported();
    private final RegistryMessages.DirectoryPage directoryPage = new RegistryMessages.DirectoryPage();
    private final RegistryMessages.NodeDown nodeDown = new RegistryMessages.NodeDown();
    private final RegistryMessages.Place place = new RegistryMessages.Place();
    private final RegistryMessages.Placed placed = new RegistryMessages.Placed();
    private final RegistryMessages.PlacementRead placementRead = new RegistryMessages.PlacementRead();
    private final RegistryMessages.PlacementPage placementPage = new RegistryMessages.PlacementPage();
    private final RegistryMessages.ServiceChange serviceChange = new RegistryMessages.ServiceChange();
    private Cluster cluster;
    private IdleStrategy idleStrategy;
    private volatile long commandsApplied;
    private volatile long repliesDropped;
    private volatile long serviceChanges;
    private volatile boolean loadedSnapshot;
    private volatile Cluster.Role role = Cluster.Role.FOLLOWER;

    /**
     * @param log where one-line notes go (a refused command, a dropped reply).
     */
    public RegistryService(final Consumer<String> log)
    {
        this.log = log;
    }

    @Override
    public void onStart(final Cluster cluster, final Image snapshotImage)
    {
        this.cluster = cluster;
        this.idleStrategy = cluster.idleStrategy();
        if (null != snapshotImage)
        {
            loadSnapshot(snapshotImage);
            loadedSnapshot = true;
        }
    }

    @Override
    public void onSessionOpen(final ClientSession session, final long timestamp)
    {
    }

    @Override
    public void onSessionClose(final ClientSession session, final long timestamp, final CloseReason closeReason)
    {
        final int nodeId = state.sessionClosed(session.id());
        if (RegistryState.NO_NODE != nodeId)
        {
            if (Cluster.Role.LEADER == role) // not again while a restarted member replays its log
            {
                log.accept("registry: node " + nodeId + " is down (session " + session.id() + " " + closeReason + ")");
            }
            final int length = nodeDown.wrap(replyBuffer, 0).correlationId(0).set(nodeId);
            for (final ClientSession other : cluster.clientSessions())
            {
                if (other.id() != session.id())
                {
                    offer(other, length);
                }
            }
            tellServiceChanges(timestamp);
        }
    }

    /**
     * After a command that changed the tables: judge the services again and tell every session of each change
     * (SERVICE_STATUS), with a line on the leader's log. Every member judges at the same commands.
     */
    private void tellServiceChanges(final long timestamp)
    {
        for (final ServiceStatus status : state.serviceChanges(timestamp))
        {
            if (Cluster.Role.LEADER == role)
            {
                log.accept("registry: service " + status.service() + " " + (null == status.previous() ? "" :
                    status.previous().word() + " -> ") + status.health().word() + ": " + status.cause());
            }
            final int length = serviceChange.wrap(replyBuffer, 0).correlationId(0).set(status.health().ordinal(),
                null == status.previous() ? RegistryMessages.ServiceChange.NONE : status.previous().ordinal(),
                status.epochMs(), status.service(), status.cause());
            for (final ClientSession session : cluster.clientSessions())
            {
                offer(session, length);
            }
            serviceChanges++;
        }
    }

    @Override
    public void onSessionMessage(
        final ClientSession session, final long timestamp, final DirectBuffer buffer, final int offset,
        final int length, final Header header)
    {
        if (length < RegistryMessages.HEADER_LENGTH)
        {
            note(session, "a command of " + length + " bytes, shorter than a header: dropped");
            return;
        }
        final int type = RegistryMessages.type(buffer, offset);
        final long correlationId = RegistryMessages.correlationId(buffer, offset);
        if (RegistryMessages.version(buffer, offset) != RegistryMessages.VERSION)
        {
            malformed(session, type, correlationId, "unknown version " + RegistryMessages.version(buffer, offset));
            return;
        }

        commandsApplied++;
        final long sessionId = session.id();
        switch (type)
        {
            case RegistryMessages.REGISTER:
            {
                register.wrapRead(buffer, offset);
                if (!register.lengthMatches(length))
                {
                    malformed(session, type, correlationId, "REGISTER of " + length + " bytes: lengths do not add up");
                    return;
                }
                HostCapacity capacity = null;
                try
                {
                    capacity = new HostCapacity(
                        register.cores(), register.coreSpeed(), register.ioBytesPerSecond(), register.memoryBytes());
                }
                catch (final IllegalArgumentException ex)
                {
                    // capacity stays null: the state refuses it as MALFORMED
                }
                final RegistryStatus status = state.register(
                    sessionId, register.name(), register.endpoint(), capacity, register.labels());
                final int nodeId = RegistryStatus.OK == status ? state.nodeIdOfSession(sessionId) : RegistryState.NO_NODE;
                final int replyLength = registered.wrap(replyBuffer, 0).correlationId(correlationId).status(status).set(nodeId);
                offer(session, replyLength);
                if (RegistryStatus.OK == status)
                {
                    tellServiceChanges(timestamp); // a node up again: its VMs run again
                }
                break;
            }

            case RegistryMessages.ADMIT:
            {
                if (length != RegistryMessages.Admit.LENGTH)
                {
                    malformed(session, type, correlationId, "ADMIT of " + length + " bytes");
                    return;
                }
                admit.wrapRead(buffer, offset);
                replyOwner(session, correlationId, admit.vmId(), state.admit(sessionId, admit.vmId(), admit.nodeId()));
                tellServiceChanges(timestamp);
                break;
            }

            case RegistryMessages.CAS:
            {
                if (length != RegistryMessages.Cas.LENGTH)
                {
                    malformed(session, type, correlationId, "CAS of " + length + " bytes");
                    return;
                }
                cas.wrapRead(buffer, offset);
                final RegistryStatus status = state.compareAndSet(
                    sessionId, cas.vmId(), cas.expectOwner(), cas.expectEpoch(), cas.newOwner(), cas.migrationId());
                replyOwner(session, correlationId, cas.vmId(), status);
                tellServiceChanges(timestamp);
                break;
            }

            case RegistryMessages.QUERY:
            {
                if (length != RegistryMessages.Query.LENGTH)
                {
                    malformed(session, type, correlationId, "QUERY of " + length + " bytes");
                    return;
                }
                query.wrapRead(buffer, offset);
                replyOwner(session, correlationId, query.vmId(), state.query(query.vmId()));
                break;
            }

            case RegistryMessages.MOVE:
            {
                if (length != RegistryMessages.Move.LENGTH)
                {
                    malformed(session, type, correlationId, "MOVE of " + length + " bytes");
                    return;
                }
                move.wrapRead(buffer, offset);
                final RegistryStatus status = state.move(sessionId, move.vmId(), move.fromNode(), move.migrationId(),
                    move.tenureFence());
                replyOwner(session, correlationId, move.vmId(), status);
                tellServiceChanges(timestamp);
                break;
            }

            case RegistryMessages.RELEASE:
            {
                if (length != RegistryMessages.Release.LENGTH)
                {
                    malformed(session, type, correlationId, "RELEASE of " + length + " bytes");
                    return;
                }
                release.wrapRead(buffer, offset);
                replyOwner(session, correlationId, release.vmId(), state.release(sessionId, release.vmId()));
                tellServiceChanges(timestamp);
                break;
            }

            case RegistryMessages.RECLAIM:
            {
                if (length != RegistryMessages.Reclaim.LENGTH)
                {
                    malformed(session, type, correlationId, "RECLAIM of " + length + " bytes");
                    return;
                }
                reclaim.wrapRead(buffer, offset);
                final RegistryStatus status = state.reclaim(sessionId, reclaim.vmId(), reclaim.migrationId());
                replyOwner(session, correlationId, reclaim.vmId(), status);
                tellServiceChanges(timestamp);
                break;
            }

            case RegistryMessages.REPORT:
            {
                if (length != RegistryMessages.Report.LENGTH)
                {
                    malformed(session, type, correlationId, "REPORT of " + length + " bytes");
                    return;
                }
                report.wrapRead(buffer, offset);
                // the log's timestamp: the same on every member, so the state stays a function of the log
                final RegistryStatus status = state.report(sessionId, report.load(), report.vmCount(), timestamp);
                final int replyLength = reported.wrap(replyBuffer, 0).correlationId(correlationId).status(status)
                    .set(RegistryStatus.OK == status ? state.nodeIdOfSession(sessionId) : RegistryState.NO_NODE, timestamp,
                        state.directoryVersion());
                reported.placementVersion(state.placementVersion());
                offer(session, replyLength);
                break;
            }

            case RegistryMessages.DIRECTORY:
            {
                if (length != RegistryMessages.Directory.LENGTH)
                {
                    malformed(session, type, correlationId, "DIRECTORY of " + length + " bytes");
                    return;
                }
                directory.wrapRead(buffer, offset);
                replyDirectoryPage(session, correlationId, directory.afterId());
                break;
            }

            case RegistryMessages.PLACE:
            {
                place.wrapRead(buffer, offset);
                if (!place.lengthMatches(length))
                {
                    malformed(session, type, correlationId, "PLACE of " + length + " bytes");
                    return;
                }
                // any member's session may change the placement: only those holding the secret get a session
                final StringBuilder reason = new StringBuilder();
                final RegistryStatus status = state.place(place.statements(), reason);
                if (RegistryStatus.OK != status)
                {
                    note(session, "placement refused: " + reason);
                }
                offer(session, placed.wrap(replyBuffer, 0).correlationId(correlationId).status(status)
                    .set(state.placementVersion(), reason.toString()));
                tellServiceChanges(timestamp);
                break;
            }

            case RegistryMessages.PLACEMENT:
            {
                if (length != RegistryMessages.PlacementRead.LENGTH)
                {
                    malformed(session, type, correlationId, "PLACEMENT of " + length + " bytes");
                    return;
                }
                placementRead.wrapRead(buffer, offset);
                offer(session, placementPage.wrap(replyBuffer, 0).correlationId(correlationId).status(RegistryStatus.OK)
                    .set(state.placementVersion(), state.placementStatements(), placementRead.from()));
                break;
            }

            default:
                malformed(session, type, correlationId, "unknown command type " + type);
        }
    }

    private void replyOwner(final ClientSession session, final long correlationId, final long vmId, final RegistryStatus status)
    {
        final int length = owner.wrap(replyBuffer, 0).correlationId(correlationId).status(status)
            .set(vmId, state.ownerOf(vmId), state.epochOf(vmId), state.migrationIdOf(vmId), state.fenceOf(vmId));
        if (RegistryStatus.RULE == status)
        {
            owner.rule(state.refusingRule());
        }
        offer(session, length);
    }

    private void replyDirectoryPage(final ClientSession session, final long correlationId, final int afterId)
    {
        offer(session, writeDirectoryPage(state, directoryPage, replyBuffer, correlationId, afterId));
    }

    /**
     * Write the directory page of the nodes after {@code afterId}, as many as fit in
     * {@link RegistryMessages.DirectoryPage#MAX_LENGTH}; the client asks for the next page after the
     * last node listed. Every page is one point of the log (not the whole directory at once): the
     * service never holds a slow reader's pages, nor buffers a whole directory.
     *
     * @param state         the state.
     * @param page          a flyweight.
     * @param buffer        where the page goes, from 0 (an expandable buffer, or 8 KiB).
     * @param correlationId the DIRECTORY's correlation id.
     * @param afterId       the node id the page starts after.
     * @return the page's length.
     */
    static int writeDirectoryPage(
        final RegistryState state, final RegistryMessages.DirectoryPage page, final MutableDirectBuffer buffer,
        final long correlationId, final int afterId)
    {
        page.wrap(buffer, 0).correlationId(correlationId).status(RegistryStatus.OK);
        int at = page.firstNode();
        int count = 0;
        int lastId = afterId;
        RegistryState.Node node = state.nodeAfter(afterId);
        while (null != node && at + RegistryMessages.DirectoryPage.nodeLength(node) <= RegistryMessages.DirectoryPage.MAX_LENGTH)
        {
            at = page.appendNode(at, node);
            count++;
            lastId = node.id();
            node = state.nodeAfter(lastId);
        }
        page.set(afterId, null == node ? 0 : lastId, count);
        return at;
    }

    private void malformed(final ClientSession session, final int type, final long correlationId, final String why)
    {
        note(session, why + ": refused");
        final int length;
        switch (RegistryMessages.replyTypeOf(type))
        {
            case RegistryMessages.REGISTERED:
                length = registered.wrap(replyBuffer, 0).correlationId(correlationId)
                    .status(RegistryStatus.MALFORMED).set(RegistryState.NO_NODE);
                break;

            case RegistryMessages.REPORTED:
                length = reported.wrap(replyBuffer, 0).correlationId(correlationId)
                    .status(RegistryStatus.MALFORMED).set(RegistryState.NO_NODE, RegistryState.NO_REPORT);
                break;

            case RegistryMessages.DIRECTORY_PAGE:
                length = directoryPage.wrap(replyBuffer, 0).correlationId(correlationId)
                    .status(RegistryStatus.MALFORMED).set(0, 0, 0);
                break;

            case RegistryMessages.PLACED:
                length = placed.wrap(replyBuffer, 0).correlationId(correlationId)
                    .status(RegistryStatus.MALFORMED).set(state.placementVersion(), why);
                break;

            case RegistryMessages.PLACEMENT_PAGE:
                length = placementPage.wrap(replyBuffer, 0).correlationId(correlationId)
                    .status(RegistryStatus.MALFORMED).set(state.placementVersion(), java.util.List.of(), 0);
                break;

            default:
                length = owner.wrap(replyBuffer, 0).correlationId(correlationId)
                    .status(RegistryStatus.MALFORMED).set(0, RegistryState.NO_NODE, 0, 0, 0);
        }
        offer(session, length);
    }

    private void note(final ClientSession session, final String what)
    {
        if (Cluster.Role.LEADER == role) // the same line once per cluster, not once per member
        {
            log.accept("registry: session " + session.id() + ": " + what);
        }
    }

    private void offer(final ClientSession session, final int length)
    {
        idleStrategy.reset();
        for (int attempt = 0; attempt < OFFER_ATTEMPTS; attempt++)
        {
            final long result = session.offer(replyBuffer, 0, length);
            if (result > 0)
            {
                return;
            }
            if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED ||
                result == Publication.MAX_POSITION_EXCEEDED)
            {
                break;
            }
            idleStrategy.idle();
        }
        repliesDropped++; // the client's deadline passes and it asks again: every command is safe to repeat or query
    }

    @Override
    public void onTimerEvent(final long correlationId, final long timestamp)
    {
    }

    @Override
    public void onTakeSnapshot(final ExclusivePublication snapshotPublication)
    {
        final int length = state.snapshot(snapshotBuffer, SNAPSHOT_HEADER);
        snapshotBuffer.putInt(0, SNAPSHOT_STREAM_MAGIC, RegistryState.ORDER);
        snapshotBuffer.putInt(4, RegistryState.SNAPSHOT_VERSION, RegistryState.ORDER);
        snapshotBuffer.putLong(8, length, RegistryState.ORDER);
        offerSnapshot(snapshotPublication, 0, SNAPSHOT_HEADER);
        for (int at = 0; at < length; at += SNAPSHOT_CHUNK)
        {
            offerSnapshot(snapshotPublication, SNAPSHOT_HEADER + at, Math.min(SNAPSHOT_CHUNK, length - at));
        }
    }

    private void offerSnapshot(final ExclusivePublication publication, final int offset, final int length)
    {
        // a snapshot must be complete: retry until it is taken (the consensus module waits for us)
        idleStrategy.reset();
        long result;
        while ((result = publication.offer(snapshotBuffer, offset, length)) <= 0)
        {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
            {
                throw new IllegalStateException("registry: snapshot publication refused a chunk: " + result);
            }
            idleStrategy.idle();
        }
    }

    private void loadSnapshot(final Image image)
    {
        final ExpandableArrayBuffer loaded = new ExpandableArrayBuffer(4096);
        final long[] expected = {-1};
        final int[] received = {0};
        final FragmentHandler handler = (buffer, offset, length, header) ->
        {
            if (expected[0] < 0)
            {
                if (length != SNAPSHOT_HEADER || buffer.getInt(offset, RegistryState.ORDER) != SNAPSHOT_STREAM_MAGIC)
                {
                    throw new IllegalStateException("registry: snapshot does not start with the registry's header");
                }
                expected[0] = buffer.getLong(offset + 8, RegistryState.ORDER);
            }
            else
            {
                loaded.putBytes(received[0], buffer, offset, length);
                received[0] += length;
            }
        };
        idleStrategy.reset();
        while (expected[0] < 0 || received[0] < expected[0])
        {
            final int fragments = image.poll(handler, 16);
            if (0 == fragments)
            {
                if (image.isEndOfStream() || image.isClosed())
                {
                    throw new IllegalStateException("registry: snapshot ended after " + received[0] + " of " +
                        expected[0] + " bytes");
                }
                idleStrategy.idle();
            }
        }
        state.restore(loaded, 0, received[0]);
    }

    @Override
    public void onRoleChange(final Cluster.Role newRole)
    {
        role = newRole;
    }

    @Override
    public void onTerminate(final Cluster cluster)
    {
    }

    /** @return the commands applied since start (log replay included), from any thread. */
    public long commandsApplied()
    {
        return commandsApplied;
    }

    /** @return replies the service could not offer, from any thread. */
    public long repliesDropped()
    {
        return repliesDropped;
    }

    /** @return service status changes told since start (log replay included), from any thread. */
    public long serviceChanges()
    {
        return serviceChanges;
    }

        /** @return whether this service started from a snapshot, from any thread. */
    public boolean loadedSnapshot()
    {
        return loadedSnapshot;
    }

    /** @return this member's role, from any thread. */
    public Cluster.Role role()
    {
        return role;
    }
}
