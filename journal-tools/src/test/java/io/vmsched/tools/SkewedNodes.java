package io.vmsched.tools;

import io.vmsched.journal.AbortReason;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Nodes' data directories, {@code BASE/node-<id>/journal/<id>/}, written as a cluster of node processes
 * on machines whose wall clocks disagree: records are appended in the order they happen, one
 * millisecond of true time apart, and each host stamps them with true time plus its clock's offset.
 * True time starts now, so an offset ahead runs ahead of the reader's clock too.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
final class SkewedNodes implements AutoCloseable
{
    private static final byte[] KIND = "idle".getBytes(StandardCharsets.UTF_8);

    private final Path base;
    private final long startNs = System.currentTimeMillis() * 1_000_000L;
    private final Map<Integer, ChronicleJournal> journals = new TreeMap<>();
    private final List<String> written = new ArrayList<>();
    private long trueNs;

    /**
     * @param base    where the nodes' directories go.
     * @param hosts   the hosts' ids.
     * @param offsets each host's clock offset from true time, ns.
     */
    SkewedNodes(final Path base, final int[] hosts, final long[] offsets)
    {
        this.base = base;
        for (int i = 0; i < hosts.length; i++)
        {
            final long offset = offsets[i];
            journals.put(hosts[i], new ChronicleJournal(journalDir(hosts[i]), hosts[i], () -> startNs + trueNs + offset));
        }
    }

    /** @return the node's data directory. */
    Path node(final int host)
    {
        return base.resolve("node-" + host);
    }

    /** @return the node's journal directory. */
    Path journalDir(final int host)
    {
        return node(host).resolve("journal").resolve(Integer.toString(host));
    }

    /**
     * @return how a read shows a record: the same words as {@link #written()}.
     */
    static String describe(final int host, final JournalRecord record)
    {
        return "host " + host + " " + record.type() + " " + History.hex(record.migrationId()) + " vm " + record.vmId();
    }

    /** @return every record in the order it was written (true time), as {@link #describe} words it. */
    List<String> written()
    {
        return written;
    }

    private void next(final int host, final RecordType type, final long migration, final long vm)
    {
        trueNs += 1_000_000;
        written.add("host " + host + " " + type + " " + History.hex(migration) + " vm " + vm);
    }

    /** Host {@code host} admits a VM. */
    SkewedNodes admit(final int host, final long vm)
    {
        next(host, RecordType.ADMITTED, 0, vm);
        journals.get(host).appendGuest(RecordType.ADMITTED, 0, vm, -1, 1, KIND, new byte[0]);
        return this;
    }

    /** Host {@code host} journals a step of migration {@code migration} of {@code vm} with {@code peer}. */
    SkewedNodes step(final int host, final RecordType type, final long migration, final long vm, final int peer)
    {
        next(host, type, migration, vm);
        if (type == RecordType.SUSPENDED || type == RecordType.RECEIVED)
        {
            journals.get(host).appendGuest(type, migration, vm, peer, 1, KIND, new byte[0]);
        }
        else if (type == RecordType.ABORTED)
        {
            journals.get(host).appendText(type, migration, vm, peer, 0, 0, 0, AbortReason.UNKNOWN.code(), "test");
        }
        else
        {
            journals.get(host).append(type, migration, vm, peer, 0, 0, 0);
        }
        return this;
    }

    /** Host {@code host} journals its load (a record of no handoff). */
    SkewedNodes load(final int host)
    {
        next(host, RecordType.LOAD_SNAPSHOT, 0, -1);
        journals.get(host).append(RecordType.LOAD_SNAPSHOT, 0, -1, -1, 1, 0.5, 0);
        return this;
    }

    /** A whole handoff that commits: INTENT, SUSPENDED, RECEIVED, ACTIVATED, COMMITTED. */
    SkewedNodes moves(final long vm, final int source, final long sequence, final int target)
    {
        final long id = JournalRecord.migrationId(source, sequence);
        return step(source, RecordType.MIGRATION_INTENT, id, vm, target).step(source, RecordType.SUSPENDED, id, vm, target)
            .step(target, RecordType.RECEIVED, id, vm, source).step(target, RecordType.ACTIVATED, id, vm, source)
            .step(source, RecordType.COMMITTED, id, vm, target);
    }

    @Override
    public void close()
    {
        journals.values().forEach(ChronicleJournal::close);
    }
}
