package io.vmsched.aeron.registry;

import io.vmsched.load.HostCapacity;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.Placement;
import io.vmsched.placement.ServiceStatus;
import io.vmsched.placement.StatusReport;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.Object2ObjectHashMap;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry's replicated state machine, without Aeron: the node directory (with each node's last
 * load report) and the owner table {@code vm -> (owner node, epoch, migration id, fence)} of
 * {@code docs/across-machines.md}.
 * <p>
 * Raft replays the same commands in the same order on every member, so <b>every result is a function
 * of the state and the command alone</b>: no clock, no randomness, no iteration order of a hash map
 * reaches a result (the snapshot sorts what it writes). Node ids are handed out in order from 1.
 * <p>
 * Invariants, each kept where it is written:
 * <ul>
 *   <li>an entry's epoch only grows, by exactly 1 per successful CAS, MOVE or RECLAIM; admission
 *       creates epoch 1;</li>
 *   <li>an entry is never removed and never changes except by a successful CAS, MOVE or RECLAIM;</li>
 *   <li>a CAS succeeds iff the entry is exactly the (owner, epoch) it expects;</li>
 *   <li>a MOVE of migration {@code m} from {@code S} succeeds iff the owner is {@code S} and
 *       {@code m > fence}; a RECLAIM of {@code m} succeeds iff the caller owns the VM and raises the
 *       fence to at least {@code m}: of a MOVE and a RECLAIM of one migration, at most one succeeds;</li>
 *   <li>the fence is 0 whenever an owner's tenure starts (admission, a MOVE, a CAS to another owner):
 *       it only ever holds migration ids of the current owner;</li>
 *   <li>a node takes a VM only for itself (the new owner of an ADMIT, CAS or MOVE is the caller's node);</li>
 *   <li>a node whose session closes is marked down and keeps its VMs and its id: the registry never
 *       re-assigns a VM on its own;</li>
 *   <li>a name belongs to at most one live session; a down node's name can be taken back, and the
 *       one who takes it gets the node's id (and so its VMs).</li>
 *   <li>the placement (services and rules, {@link Placement}) changes only by a PLACE whose statements
 *       all pass its checks, applied whole; its version grows by 1 each time;</li>
 *   <li>no ADMIT, MOVE or CAS to another owner succeeds onto a drained node, nor one that would break a
 *       hard rule in force: a rule
 *       is checked here, where the placement is decided, never against a node's copy (a node's view
 *       of the rules only spares it transfers the registry would refuse).</li>
 * </ul>
 * <b>Note:</b> Not threadsafe: the clustered service's thread owns it.
 */
public final class RegistryState
{
    /** No node: the owner of an absent VM, the id of an unregistered caller. */
    public static final int NO_NODE = 0;
    /** No session: a down node's session id. */
    public static final long NO_SESSION = Long.MIN_VALUE;
    /** The longest name, endpoint (UTF-8 bytes). */
    public static final int MAX_NAME_LENGTH = 255;
    /** The longest labels string (UTF-8 bytes). */
    public static final int MAX_LABELS_LENGTH = 1024;
    /** The report time of a node that never reported its load. */
    public static final long NO_REPORT = Long.MIN_VALUE;

    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    static final int SNAPSHOT_MAGIC = 0x47455256; // "VREG" little-endian
    static final int SNAPSHOT_VERSION = 3; // 2: a node's load report, an entry's fence; 3: the placement
    static final int SNAPSHOT_HEADER_LENGTH = 24;
    static final int SNAPSHOT_NODE_FIXED_LENGTH = 74;
    static final int SNAPSHOT_ENTRY_LENGTH = 36;

    private final Int2ObjectHashMap<Node> nodesById = new Int2ObjectHashMap<>();
    private final Object2ObjectHashMap<String, Node> nodesByName = new Object2ObjectHashMap<>();
    private final Long2ObjectHashMap<Node> nodesBySession = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Entry> owners = new Long2ObjectHashMap<>();
    private int nextNodeId = 1;
    private final Placement placement = new Placement().wire(owners::containsKey, statement -> { });
    private final Constraints.Locator where = vm ->
    {
        final Entry entry = owners.get(vm);
        return null == entry ? -1 : entry.owner - 1; // host ids are node ids - 1
    };
    private int placementVersion;
    // each service's last judged status (serviceChanges), in no snapshot: a function of the tables above
    private final Map<String, ServiceStatus> statuses = new HashMap<>();
    private int refusingRule = -1;
    // counts the directory's changes (a node registered, up again, or down), so a node re-reads it only then
    private int directoryVersion;

    /**
     * REGISTER: the calling session becomes node {@code name}.
     * <ul>
     *   <li>a new name gets the next node id;</li>
     *   <li>a down node's name is taken back: same id, same VMs, the new endpoint, capacity, labels;</li>
     *   <li>the same session registering the same name again (a retried command) is OK and updates
     *       the details;</li>
     *   <li>refused: a name held by another live session ({@code NAME_TAKEN}), a session that holds
     *       another name ({@code SESSION_HAS_NODE}), a bad name, endpoint or labels ({@code MALFORMED}).</li>
     * </ul>
     *
     * @param sessionId the calling client session.
     * @param name      the node's name (1..255 UTF-8 bytes, no control characters).
     * @param endpoint  its data-plane endpoint, {@code host:port}.
     * @param capacity  its capacity.
     * @param labels    free text (at most 1024 UTF-8 bytes), may be empty.
     * @return the outcome; on OK, {@link #nodeIdOfSession(long)} names the node.
     */
    public RegistryStatus register(
        final long sessionId, final String name, final String endpoint, final HostCapacity capacity,
        final String labels)
    {
        if (sessionId == NO_SESSION || !validName(name) || !validEndpoint(endpoint) || null == capacity ||
            null == labels || utf8Length(labels) > MAX_LABELS_LENGTH)
        {
            return RegistryStatus.MALFORMED;
        }

        final Node ofSession = nodesBySession.get(sessionId);
        if (null != ofSession && !ofSession.name.equals(name))
        {
            return RegistryStatus.SESSION_HAS_NODE;
        }

        Node node = nodesByName.get(name);
        if (null == node)
        {
            node = new Node(nextNodeId++, name);
            nodesById.put(node.id, node);
            nodesByName.put(name, node);
        }
        else if (node.up && node.sessionId != sessionId)
        {
            return RegistryStatus.NAME_TAKEN;
        }

        node.endpoint = endpoint;
        node.capacity = capacity;
        node.labels = labels;
        node.sessionId = sessionId;
        node.up = true;
        directoryVersion++;
        placement.hostLabels(node.id - 1, placementLabels(labels));
        nodesBySession.put(sessionId, node);
        return RegistryStatus.OK;
    }

    /**
     * A client session closed or timed out: its node (if any) is marked down. Its VMs stay its own
     * (never re-assigned here) and its name can be taken back by a new session.
     *
     * @param sessionId the session.
     * @return the node marked down, or {@link #NO_NODE}.
     */
    public int sessionClosed(final long sessionId)
    {
        final Node node = nodesBySession.remove(sessionId);
        if (null == node)
        {
            return NO_NODE;
        }
        node.up = false;
        node.sessionId = NO_SESSION;
        directoryVersion++;
        return node.id;
    }

    /**
     * ADMIT: {@code vm} absent becomes {@code (node, epoch 1, migration 0)}.
     *
     * @param sessionId the calling session, which must have registered {@code nodeId}.
     * @param vmId      the VM.
     * @param nodeId    its first owner: the caller's node.
     * @return OK, or EXISTS (the entry is unchanged), NOT_REGISTERED, NOT_CALLER.
     */
    public RegistryStatus admit(final long sessionId, final long vmId, final int nodeId)
    {
        final RegistryStatus callerStatus = checkCaller(sessionId, nodeId);
        if (RegistryStatus.OK != callerStatus)
        {
            return callerStatus;
        }
        if (owners.containsKey(vmId))
        {
            return RegistryStatus.EXISTS;
        }
        if (breaksHardRule(vmId, nodeId))
        {
            if (null != placement.serviceOf(vmId))
            {
                // it joined its service to be admitted, and was not: a service holds no VM refused entry
                placement.leave(vmId);
                placementVersion++;
            }
            return RegistryStatus.RULE;
        }
        owners.put(vmId, new Entry(nodeId, 1, 0));
        return RegistryStatus.OK;
    }

    /**
     * CAS: if {@code vm} is exactly {@code (expectOwner, expectEpoch)}, it becomes
     * {@code (newOwner, expectEpoch + 1, migrationId)}; otherwise nothing changes. Of two CAS that
     * expect the same (owner, epoch), only the first applied can succeed: it moves the epoch on.
     * The expected owner may be down (a target completes the migration of a source that died after
     * sending its TRANSFER). A CAS to another owner clears the fence (a new tenure); one that keeps the
     * owner keeps it.
     *
     * @param sessionId   the calling session, which must have registered {@code newOwner}.
     * @param vmId        the VM.
     * @param expectOwner the owner expected.
     * @param expectEpoch the epoch expected (at least 1).
     * @param newOwner    the new owner: the caller's node (a target activating, or a source reclaiming).
     * @param migrationId the migration this CAS completes or reclaims.
     * @return OK, or MISMATCH, ABSENT, NOT_REGISTERED, NOT_CALLER, MALFORMED (epoch out of range).
     */
    public RegistryStatus compareAndSet(
        final long sessionId, final long vmId, final int expectOwner, final long expectEpoch, final int newOwner,
        final long migrationId)
    {
        if (expectEpoch < 1 || expectEpoch == Long.MAX_VALUE || expectOwner <= NO_NODE)
        {
            return RegistryStatus.MALFORMED;
        }
        final RegistryStatus callerStatus = checkCaller(sessionId, newOwner);
        if (RegistryStatus.OK != callerStatus)
        {
            return callerStatus;
        }
        final Entry entry = owners.get(vmId);
        if (null == entry)
        {
            return RegistryStatus.ABSENT;
        }
        // the linearization point: succeed iff the entry is exactly what the caller expects
        if (entry.owner != expectOwner || entry.epoch != expectEpoch)
        {
            return RegistryStatus.MISMATCH;
        }
        if (entry.owner != newOwner && breaksHardRule(vmId, newOwner))
        {
            return RegistryStatus.RULE;
        }
        if (entry.owner != newOwner)
        {
            entry.fence = 0; // a new owner's tenure: the old owner's migration ids mean nothing to it
        }
        entry.owner = newOwner;
        entry.epoch = expectEpoch + 1; // an epoch only grows
        entry.migrationId = migrationId;
        return RegistryStatus.OK;
    }

    /**
     * MOVE: the commit point of a handoff, sent by its target. If {@code vm} is owned by {@code fromNode}
     * and {@code migrationId} is above the entry's fence, it becomes {@code (caller, epoch + 1,
     * migrationId, fence 0)}; otherwise nothing changes. The source may be down (a target completes the
     * migration of a source that died after sending its TRANSFER). Migration ids of one source strictly
     * grow, so the fence (set by the source's RECLAIM) shuts out that migration and every earlier one;
     * the registry compares ids, it never decodes them.
     *
     * @param sessionId   the calling session: the target, which becomes the owner.
     * @param vmId        the VM.
     * @param fromNode    the source, the owner expected (not the caller).
     * @param migrationId the migration this MOVE completes (at least 1).
     * @return OK, or MISMATCH (the owner is not {@code fromNode}, or the migration is fenced off), ABSENT,
     *         NOT_REGISTERED, MALFORMED (an id out of range, a move from the caller's own node).
     */
    public RegistryStatus move(final long sessionId, final long vmId, final int fromNode, final long migrationId)
    {
        return move(sessionId, vmId, fromNode, migrationId, 0);
    }

    /**
     * MOVE, starting the caller's tenure with a fence of its own: the highest migration id the caller
     * has used so far, so that a MOVE of one of its earlier migrations, sent by a target long ago and
     * delayed, can never apply in this tenure (the VM may leave the caller and come back: without it a
     * stale MOVE from the caller's earlier tenure would pass a fence reset to 0).
     *
     * @param sessionId   the calling session: the target.
     * @param vmId        the VM.
     * @param fromNode    the source, the owner expected.
     * @param migrationId the migration (at least 1).
     * @param tenureFence the caller's highest migration id so far (0 if none).
     * @return OK, or MISMATCH, ABSENT, NOT_REGISTERED, MALFORMED.
     */
    public RegistryStatus move(final long sessionId, final long vmId, final int fromNode, final long migrationId,
        final long tenureFence)
    {
        if (migrationId < 1 || fromNode <= NO_NODE || tenureFence < 0)
        {
            return RegistryStatus.MALFORMED;
        }
        final Node caller = nodesBySession.get(sessionId);
        if (null == caller)
        {
            return RegistryStatus.NOT_REGISTERED;
        }
        if (caller.id == fromNode)
        {
            return RegistryStatus.MALFORMED; // it would clear the caller's own fence: a source RECLAIMs instead
        }
        final Entry entry = owners.get(vmId);
        if (null == entry)
        {
            return RegistryStatus.ABSENT;
        }
        // the linearization point: the source still owns it and has not reclaimed this migration (or a later one)
        if (entry.owner != fromNode || migrationId <= entry.fence)
        {
            return RegistryStatus.MISMATCH;
        }
        if (breaksHardRule(vmId, caller.id))
        {
            return RegistryStatus.RULE; // the source keeps it and reclaims: as if the move had lost the race
        }
        entry.owner = caller.id;
        entry.epoch++;
        entry.migrationId = migrationId;
        entry.fence = tenureFence; // the target's tenure starts above every migration it sent before
        return RegistryStatus.OK;
    }

    /**
     * RELEASE: the owner removed the VM; its entry goes (a later ADMIT of the same id starts afresh).
     *
     * @param sessionId the calling session: the owner.
     * @param vmId      the VM.
     * @return OK, or MISMATCH (the caller does not own it), ABSENT, NOT_REGISTERED.
     */
    public RegistryStatus release(final long sessionId, final long vmId)
    {
        final Node caller = nodesBySession.get(sessionId);
        if (null == caller)
        {
            return RegistryStatus.NOT_REGISTERED;
        }
        final Entry entry = owners.get(vmId);
        if (null == entry)
        {
            return RegistryStatus.ABSENT;
        }
        if (entry.owner != caller.id)
        {
            return RegistryStatus.MISMATCH;
        }
        owners.remove(vmId);
        return RegistryStatus.OK;
    }

    /**
     * RECLAIM: a source whose migration did not finish keeps its VM. If the caller owns {@code vm}, it
     * becomes {@code (caller, epoch + 1, migrationId, max(fence, migrationId))}: a later MOVE of this
     * migration, or of an earlier one, fails. Otherwise nothing changes: a MISMATCH whose entry is
     * {@code (target, *, migrationId)} means the target's MOVE came first (the migration committed).
     *
     * @param sessionId   the calling session: the owner.
     * @param vmId        the VM.
     * @param migrationId the migration given up (at least 1).
     * @return OK, or MISMATCH (the caller does not own it), ABSENT, NOT_REGISTERED, MALFORMED (id below 1).
     */
    public RegistryStatus reclaim(final long sessionId, final long vmId, final long migrationId)
    {
        if (migrationId < 1)
        {
            return RegistryStatus.MALFORMED;
        }
        final Node caller = nodesBySession.get(sessionId);
        if (null == caller)
        {
            return RegistryStatus.NOT_REGISTERED;
        }
        final Entry entry = owners.get(vmId);
        if (null == entry)
        {
            return RegistryStatus.ABSENT;
        }
        if (entry.owner != caller.id)
        {
            return RegistryStatus.MISMATCH;
        }
        entry.epoch++;
        entry.migrationId = migrationId;
        entry.fence = Math.max(entry.fence, migrationId); // the fence only grows within a tenure
        return RegistryStatus.OK;
    }

    /**
     * REPORT: the calling node's load, kept with the cluster time it came at (the log's timestamp, the
     * same on every member) until its next report; a node that goes down keeps its last one.
     *
     * @param sessionId the calling session, which must have registered a node.
     * @param load      its load (finite, at least 0).
     * @param vmCount   how many VMs it runs (at least 0).
     * @param timestamp the command's cluster time.
     * @return OK, or NOT_REGISTERED, MALFORMED (a load that is negative, NaN or infinite; a negative count).
     */
    public RegistryStatus report(final long sessionId, final double load, final int vmCount, final long timestamp)
    {
        if (!(load >= 0) || Double.isInfinite(load) || vmCount < 0 || NO_REPORT == timestamp)
        {
            return RegistryStatus.MALFORMED;
        }
        final Node caller = nodesBySession.get(sessionId);
        if (null == caller)
        {
            return RegistryStatus.NOT_REGISTERED;
        }
        caller.load = load;
        caller.vmCount = vmCount;
        caller.reportTime = timestamp;
        return RegistryStatus.OK;
    }

    /**
     * QUERY: who owns {@code vm}; read the entry with {@link #ownerOf(long)}, {@link #epochOf(long)},
     * {@link #migrationIdOf(long)}.
     *
     * @param vmId the VM.
     * @return OK or ABSENT.
     */
    public RegistryStatus query(final long vmId)
    {
        return owners.containsKey(vmId) ? RegistryStatus.OK : RegistryStatus.ABSENT;
    }

    /**
     * @param vmId a VM.
     * @return its owner node, or {@link #NO_NODE}.
     */
    public int ownerOf(final long vmId)
    {
        final Entry entry = owners.get(vmId);
        return null == entry ? NO_NODE : entry.owner;
    }

    /**
     * @param vmId a VM.
     * @return its epoch, or 0 if absent.
     */
    public long epochOf(final long vmId)
    {
        final Entry entry = owners.get(vmId);
        return null == entry ? 0 : entry.epoch;
    }

    /**
     * @param vmId a VM.
     * @return the migration of its last CAS, MOVE or RECLAIM (0 after admission, or if absent).
     */
    public long migrationIdOf(final long vmId)
    {
        final Entry entry = owners.get(vmId);
        return null == entry ? 0 : entry.migrationId;
    }

    /**
     * @param vmId a VM.
     * @return its fence: the highest migration its owner reclaimed in this tenure (0 if none, or absent).
     */
    public long fenceOf(final long vmId)
    {
        final Entry entry = owners.get(vmId);
        return null == entry ? 0 : entry.fence;
    }

    /**
     * PLACE: apply an operator's (or a node's) placement statements as one change ({@link Placement#submit}):
     * all checked against the registry's own state (its VMs, its nodes' labels), none applied if one is
     * refused.
     *
     * @param statements the statements, in order.
     * @param reason     receives why they were refused.
     * @return OK, or REFUSED (with the reason).
     */
    public RegistryStatus place(final List<String> statements, final StringBuilder reason)
    {
        try
        {
            placement.submit(statements);
        }
        catch (final IllegalArgumentException ex)
        {
            reason.append(ex.getMessage());
            return RegistryStatus.REFUSED;
        }
        placementVersion++;
        return RegistryStatus.OK;
    }

    /** @return a number that grows by 1 with every change of the placement. */
    public int placementVersion()
    {
        return placementVersion;
    }

    /** @return the statements that recreate the placement ({@link Placement#statements()}). */
    public List<String> placementStatements()
    {
        return placement.statements();
    }

    /** @return the placement (read only: change it by {@link #place}). */
    public Placement placement()
    {
        return placement;
    }

    /**
     * @return the index of the hard rule the last ADMIT, MOVE or CAS refused with {@link RegistryStatus#RULE}
     *         broke (in {@link Placement#constraints()}), -1 if none.
     */
    public int refusingRule()
    {
        return refusingRule;
    }

    /** Whether {@code vmId} running on {@code nodeId} would break a hard rule (remembered in {@link #refusingRule}). */
    private boolean breaksHardRule(final long vmId, final int nodeId)
    {
        final Constraints rules = placement.constraints();
        if (rules.closed(nodeId - 1))
        {
            refusingRule = -1; // the node is drained: it takes no VM
            return true;
        }
        final int[] of = rules.rulesOf(vmId);
        refusingRule = of.length == 0 ? -1 : rules.breaks(of, vmId, nodeId - 1, where, false, false);
        return refusingRule >= 0;
    }

    /**
     * @param labels a node's labels as registered (free text).
     * @return the labels rules can name: the valid names among them ({@code rack=a} is not one).
     */
    public static java.util.Set<String> placementLabels(final String labels)
    {
        final java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (final String label : labels.strip().split("[,\\s]+"))
        {
            try
            {
                out.addAll(Placement.parseLabels(label));
            }
            catch (final IllegalArgumentException ex)
            {
                // not a name a rule can use (rack=a): shown in the directory only
            }
        }
        return out;
    }

    /**
     * @return a number that changes whenever the directory does (a node registered, back up, or down):
     *         a node that saw it unchanged need not read the directory again.
     */
    public int directoryVersion()
    {
        return directoryVersion;
    }

    /** @return how many VMs have an owner. */
    public int vmCount()
    {
        return owners.size();
    }

    /**
     * @param sessionId a client session.
     * @return the node it registered, or {@link #NO_NODE}.
     */
    public int nodeIdOfSession(final long sessionId)
    {
        final Node node = nodesBySession.get(sessionId);
        return null == node ? NO_NODE : node.id;
    }

    /**
     * @param nodeId a node id.
     * @return the node, or null.
     */
    public Node node(final int nodeId)
    {
        return nodesById.get(nodeId);
    }

    /**
     * @param name a node name.
     * @return the node, or null.
     */
    public Node node(final String name)
    {
        return nodesByName.get(name);
    }

    /**
     * The directory in id order, a page at a time: node ids are handed out in order and never reused
     * or removed, so reading on from the last id listed misses no node and lists none twice.
     *
     * @param afterId a node id (0 for the first node).
     * @return the node with the smallest id above {@code afterId}, or null.
     */
    public Node nodeAfter(final int afterId)
    {
        for (int id = Math.max(afterId, NO_NODE) + 1; id < nextNodeId; id++)
        {
            final Node node = nodesById.get(id);
            if (null != node)
            {
                return node;
            }
        }
        return null;
    }

    /** @return every node, by id. */
    public List<Node> nodes()
    {
        final List<Node> nodes = new ArrayList<>(nodesById.values());
        nodes.sort((a, b) -> Integer.compare(a.id, b.id));
        return nodes;
    }

    private RegistryStatus checkCaller(final long sessionId, final int nodeId)
    {
        final Node caller = nodesBySession.get(sessionId);
        if (null == caller)
        {
            return RegistryStatus.NOT_REGISTERED;
        }
        return caller.id == nodeId ? RegistryStatus.OK : RegistryStatus.NOT_CALLER;
    }

    /**
     * Write the whole state, little-endian:
     * <pre>
     *  header   0 4 magic "VREG" | 4 4 version | 8 4 next node id | 12 4 node count | 16 4 entry count |
     *           20 4 directory version
     *  node     0 4 id | 4 1 up | 5 1 reserved | 6 8 session id | 14 8 cores | 22 8 core speed |
     *           30 8 I/O bytes/s | 38 8 memory bytes | 46 8 load | 54 8 report time | 62 4 vm count |
     *           66 2 name length | 68 2 endpoint length | 70 4 labels length | 74 name | endpoint | labels (UTF-8)
     *  entry    0 8 vm | 8 4 owner | 12 8 epoch | 20 8 migration id | 28 8 fence
     *  then     0 4 placement version | 4 4 statement count, each statement 0 4 length | 4 text (UTF-8)
     * </pre>
     * Nodes by id, entries by VM id, so the same state always writes the same bytes.
     *
     * @param buffer where to write (an expandable buffer grows as needed).
     * @param offset where to start.
     * @return the length written.
     */
    public int snapshot(final MutableDirectBuffer buffer, final int offset)
    {
        final List<Node> nodes = nodes();
        final long[] vmIds = new long[owners.size()];
        int n = 0;
        for (final Long2ObjectHashMap<Entry>.KeyIterator it = owners.keySet().iterator(); it.hasNext(); )
        {
            vmIds[n++] = it.nextLong();
        }
        Arrays.sort(vmIds);

        int at = offset;
        buffer.putInt(at, SNAPSHOT_MAGIC, ORDER);
        buffer.putInt(at + 4, SNAPSHOT_VERSION, ORDER);
        buffer.putInt(at + 8, nextNodeId, ORDER);
        buffer.putInt(at + 12, nodes.size(), ORDER);
        buffer.putInt(at + 16, vmIds.length, ORDER);
        buffer.putInt(at + 20, directoryVersion, ORDER);
        at += SNAPSHOT_HEADER_LENGTH;
        for (final Node node : nodes)
        {
            final byte[] name = node.name.getBytes(StandardCharsets.UTF_8);
            final byte[] endpoint = node.endpoint.getBytes(StandardCharsets.UTF_8);
            final byte[] labels = node.labels.getBytes(StandardCharsets.UTF_8);
            buffer.putInt(at, node.id, ORDER);
            buffer.putByte(at + 4, (byte)(node.up ? 1 : 0));
            buffer.putByte(at + 5, (byte)0);
            buffer.putLong(at + 6, node.sessionId, ORDER);
            buffer.putDouble(at + 14, node.capacity.cores(), ORDER);
            buffer.putDouble(at + 22, node.capacity.coreSpeed(), ORDER);
            buffer.putDouble(at + 30, node.capacity.ioBytesPerSecond(), ORDER);
            buffer.putDouble(at + 38, node.capacity.memoryBytes(), ORDER);
            buffer.putDouble(at + 46, node.load, ORDER);
            buffer.putLong(at + 54, node.reportTime, ORDER);
            buffer.putInt(at + 62, node.vmCount, ORDER);
            buffer.putShort(at + 66, (short)name.length, ORDER);
            buffer.putShort(at + 68, (short)endpoint.length, ORDER);
            buffer.putInt(at + 70, labels.length, ORDER);
            at += SNAPSHOT_NODE_FIXED_LENGTH;
            buffer.putBytes(at, name);
            at += name.length;
            buffer.putBytes(at, endpoint);
            at += endpoint.length;
            buffer.putBytes(at, labels);
            at += labels.length;
        }
        for (final long vmId : vmIds)
        {
            final Entry entry = owners.get(vmId);
            buffer.putLong(at, vmId, ORDER);
            buffer.putInt(at + 8, entry.owner, ORDER);
            buffer.putLong(at + 12, entry.epoch, ORDER);
            buffer.putLong(at + 20, entry.migrationId, ORDER);
            buffer.putLong(at + 28, entry.fence, ORDER);
            at += SNAPSHOT_ENTRY_LENGTH;
        }
        final List<String> statements = placement.statements();
        buffer.putInt(at, placementVersion, ORDER);
        buffer.putInt(at + 4, statements.size(), ORDER);
        at += 8;
        for (final String statement : statements)
        {
            final byte[] text = statement.getBytes(StandardCharsets.UTF_8);
            buffer.putInt(at, text.length, ORDER);
            buffer.putBytes(at + 4, text);
            at += 4 + text.length;
        }
        return at - offset;
    }

    /**
     * Replace the whole state with a snapshot's. The snapshot is checked completely before anything
     * changes: a damaged one is refused in one line and leaves this state as it was.
     *
     * @param buffer the snapshot.
     * @param offset where it starts.
     * @param length its length.
     * @throws IllegalArgumentException naming what is wrong and at which byte.
     */
    public void restore(final DirectBuffer buffer, final int offset, final int length)
    {
        final RegistryState loaded = new RegistryState();
        final int end = offset + length;
        need(SNAPSHOT_HEADER_LENGTH, offset, end, offset, "header");
        if (buffer.getInt(offset, ORDER) != SNAPSHOT_MAGIC)
        {
            throw new IllegalArgumentException("registry snapshot: not a registry snapshot (bad magic) at byte 0");
        }
        final int version = buffer.getInt(offset + 4, ORDER);
        if (version != SNAPSHOT_VERSION)
        {
            throw new IllegalArgumentException("registry snapshot: unknown version " + version + " at byte 4");
        }
        loaded.nextNodeId = buffer.getInt(offset + 8, ORDER);
        loaded.directoryVersion = buffer.getInt(offset + 20, ORDER);
        final int nodeCount = buffer.getInt(offset + 12, ORDER);
        final int entryCount = buffer.getInt(offset + 16, ORDER);
        if (nodeCount < 0 || entryCount < 0 || loaded.nextNodeId < 1)
        {
            throw new IllegalArgumentException("registry snapshot: negative count or node id at byte 8");
        }

        int at = offset + SNAPSHOT_HEADER_LENGTH;
        for (int i = 0; i < nodeCount; i++)
        {
            need(SNAPSHOT_NODE_FIXED_LENGTH, at, end, offset, "node " + i);
            final int id = buffer.getInt(at, ORDER);
            final boolean up = buffer.getByte(at + 4) == 1;
            final long sessionId = buffer.getLong(at + 6, ORDER);
            final double cores = buffer.getDouble(at + 14, ORDER);
            final double speed = buffer.getDouble(at + 22, ORDER);
            final double io = buffer.getDouble(at + 30, ORDER);
            final double memory = buffer.getDouble(at + 38, ORDER);
            final double load = buffer.getDouble(at + 46, ORDER);
            final long reportTime = buffer.getLong(at + 54, ORDER);
            final int vmCount = buffer.getInt(at + 62, ORDER);
            final int nameLength = buffer.getShort(at + 66, ORDER) & 0xFFFF;
            final int endpointLength = buffer.getShort(at + 68, ORDER) & 0xFFFF;
            final int labelsLength = buffer.getInt(at + 70, ORDER);
            if (labelsLength < 0 || labelsLength > MAX_LABELS_LENGTH)
            {
                throw new IllegalArgumentException(
                    "registry snapshot: node " + i + " labels length " + labelsLength + " at byte " + (at + 70 - offset));
            }
            if (!(load >= 0) || Double.isInfinite(load) || vmCount < 0 ||
                (NO_REPORT == reportTime && (0 != load || 0 != vmCount)))
            {
                throw new IllegalArgumentException(
                    "registry snapshot: node " + i + " has a bad load report at byte " + (at + 46 - offset));
            }
            final int start = at;
            at += SNAPSHOT_NODE_FIXED_LENGTH;
            need(nameLength + endpointLength + labelsLength, at, end, offset, "node " + i + "'s strings");
            final Node node = new Node(id, buffer.getStringWithoutLengthUtf8(at, nameLength));
            at += nameLength;
            node.endpoint = buffer.getStringWithoutLengthUtf8(at, endpointLength);
            at += endpointLength;
            node.labels = buffer.getStringWithoutLengthUtf8(at, labelsLength);
            at += labelsLength;
            try
            {
                node.capacity = new HostCapacity(cores, speed, io, memory);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException(
                    "registry snapshot: node " + i + " has a bad capacity at byte " + (start + 14 - offset));
            }
            node.load = load;
            node.vmCount = vmCount;
            node.reportTime = reportTime;
            node.up = up;
            node.sessionId = up ? sessionId : NO_SESSION;
            if (id <= NO_NODE || id >= loaded.nextNodeId || null != loaded.nodesById.put(id, node) ||
                null != loaded.nodesByName.put(node.name, node) ||
                (up && null != loaded.nodesBySession.put(sessionId, node)))
            {
                throw new IllegalArgumentException(
                    "registry snapshot: node " + i + " (id " + id + ") out of range or duplicated at byte " + (start - offset));
            }
        }
        for (int i = 0; i < entryCount; i++)
        {
            need(SNAPSHOT_ENTRY_LENGTH, at, end, offset, "entry " + i);
            final long vmId = buffer.getLong(at, ORDER);
            final int owner = buffer.getInt(at + 8, ORDER);
            final long epoch = buffer.getLong(at + 12, ORDER);
            final long migrationId = buffer.getLong(at + 20, ORDER);
            final long fence = buffer.getLong(at + 28, ORDER);
            final Entry entry = new Entry(owner, epoch, migrationId);
            entry.fence = fence;
            if (!loaded.nodesById.containsKey(owner) || epoch < 1 || fence < 0 ||
                null != loaded.owners.put(vmId, entry))
            {
                throw new IllegalArgumentException("registry snapshot: entry " + i + " (vm " + vmId +
                    ") has an unknown owner, an epoch below 1, a negative fence or is duplicated at byte " + (at - offset));
            }
            at += SNAPSHOT_ENTRY_LENGTH;
        }
        need(8, at, end, offset, "placement");
        final int loadedPlacementVersion = buffer.getInt(at, ORDER);
        final int statementCount = buffer.getInt(at + 4, ORDER);
        at += 8;
        final List<String> statements = new ArrayList<>();
        for (int i = 0; i < statementCount; i++)
        {
            need(4, at, end, offset, "placement statement " + i);
            final int textLength = buffer.getInt(at, ORDER);
            need(textLength, at + 4, end, offset, "placement statement " + i);
            statements.add(buffer.getStringWithoutLengthUtf8(at + 4, textLength));
            at += 4 + textLength;
        }
        for (final Node node : loaded.nodes())
        {
            loaded.placement.hostLabels(node.id - 1, placementLabels(node.labels));
        }
        try
        {
            loaded.placement.replaceWith(statements);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("registry snapshot: placement: " + ex.getMessage());
        }
        if (at != end)
        {
            throw new IllegalArgumentException(
                "registry snapshot: " + (end - at) + " bytes left over at byte " + (at - offset));
        }

        nodesById.clear();
        nodesById.putAll(loaded.nodesById);
        nodesByName.clear();
        nodesByName.putAll(loaded.nodesByName);
        nodesBySession.clear();
        nodesBySession.putAll(loaded.nodesBySession);
        owners.clear();
        owners.putAll(loaded.owners);
        nextNodeId = loaded.nextNodeId;
        directoryVersion = loaded.directoryVersion;
        for (final Node node : nodes())
        {
            placement.hostLabels(node.id - 1, placementLabels(node.labels));
        }
        placement.replaceWith(statements);
        placementVersion = loadedPlacementVersion;
        statuses.clear();
        serviceChanges(0); // the statuses are a function of the tables: judged again, not told again
    }

    /**
     * Judge every service against the tables as they are now ({@link RegistryStatusReport#of}: a VM runs
     * where its owner node is up) and return the services whose status changed since the last judgement
     * (a new service's first status included; a deleted service is forgotten). The statuses are not in the
     * snapshot: they are a function of the tables, so a restored state judges them again silently, and every
     * member, applying the same log, tells the same changes at the same commands.
     *
     * @param timestampMs the command's cluster time, ms since the epoch (the same on every member).
     * @return the changes, in the placement's order of services; empty if none.
     */
    public List<ServiceStatus> serviceChanges(final long timestampMs)
    {
        if (placement.services().isEmpty() && statuses.isEmpty())
        {
            return List.of();
        }
        final StatusReport report = RegistryStatusReport.of(placement, host ->
        {
            final Node node = nodesById.get(host + 1);
            return null != node && node.up;
        }, where, timestampMs);
        List<ServiceStatus> changes = List.of();
        final java.util.Set<String> defined = new java.util.HashSet<>();
        for (final StatusReport.ServiceReport service : report.services())
        {
            final String name = service.service().name();
            defined.add(name);
            final ServiceStatus before = statuses.get(name);
            if (null == before || before.health() != service.health())
            {
                final ServiceStatus status = new ServiceStatus(name, service.health(), null == before ? null : before.health(),
                    service.cause(), timestampMs);
                statuses.put(name, status);
                if (changes.isEmpty())
                {
                    changes = new java.util.ArrayList<>();
                }
                changes.add(status);
            }
        }
        statuses.keySet().retainAll(defined);
        return changes;
    }

    private static void need(final int bytes, final int at, final int end, final int offset, final String what)
    {
        if (bytes < 0 || end - at < bytes)
        {
            throw new IllegalArgumentException(
                "registry snapshot: truncated in the " + what + " at byte " + (at - offset));
        }
    }

    static boolean validName(final String name)
    {
        if (null == name || name.isEmpty() || utf8Length(name) > MAX_NAME_LENGTH)
        {
            return false;
        }
        for (int i = 0; i < name.length(); i++)
        {
            if (Character.isISOControl(name.charAt(i)) || Character.isWhitespace(name.charAt(i)))
            {
                return false;
            }
        }
        return true;
    }

    static boolean validEndpoint(final String endpoint)
    {
        if (null == endpoint || utf8Length(endpoint) > MAX_NAME_LENGTH)
        {
            return false;
        }
        final int colon = endpoint.lastIndexOf(':');
        if (colon < 1 || colon == endpoint.length() - 1)
        {
            return false;
        }
        for (int i = colon + 1; i < endpoint.length(); i++)
        {
            if (endpoint.charAt(i) < '0' || endpoint.charAt(i) > '9' || i - colon > 5)
            {
                return false;
            }
        }
        final int port = Integer.parseInt(endpoint.substring(colon + 1));
        return port >= 1 && port <= 65535 && validName(endpoint.substring(0, colon));
    }

    static int utf8Length(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** One VM's entry in the owner table. */
    private static final class Entry
    {
        int owner;
        long epoch;
        long migrationId;
        long fence;

        Entry(final int owner, final long epoch, final long migrationId)
        {
            this.owner = owner;
            this.epoch = epoch;
            this.migrationId = migrationId;
        }
    }

    /**
     * A node of the directory. Read it on the registry's thread only (the state changes it in place).
     */
    public static final class Node
    {
        private final int id;
        private final String name;
        private String endpoint;
        private HostCapacity capacity;
        private String labels;
        private long sessionId = NO_SESSION;
        private boolean up;
        private double load;
        private int vmCount;
        private long reportTime = NO_REPORT;

        Node(final int id, final String name)
        {
            this.id = id;
            this.name = name;
        }

        /** @return its id, from 1, kept for life (also across a restart of the node). */
        public int id()
        {
            return id;
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

        /** @return its live session, or {@link #NO_SESSION} while down. */
        public long sessionId()
        {
            return sessionId;
        }

        /** @return whether its session is live. */
        public boolean up()
        {
            return up;
        }

        /** @return the load of its last report (0 before any). */
        public double load()
        {
            return load;
        }

        /** @return the VM count of its last report (0 before any). */
        public int vmCount()
        {
            return vmCount;
        }

        /** @return the cluster time (ms) its last report came at, or {@link #NO_REPORT}. */
        public long reportTime()
        {
            return reportTime;
        }

        @Override
        public String toString()
        {
            return "node " + id + " '" + name + "' at " + endpoint + (up ? " up" : " down");
        }
    }
}
