package io.vmsched.tools;

import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;

/**
 * Passes on the records of a merged read that match: record numbers in [from, to], one VM's, one
 * type's; the read stops after {@code to}. Wraps the handler that does something with them:
 * {@code set.forEach(new RecordFilter(0, 99, RecordFilter.ANY_VM, null, records))}.
 * <p>
 * Threading: immutable itself; it calls {@code next} on the reading thread.
 */
public final class RecordFilter implements JournalSet.Handler
{
    /** A {@code vmId} that matches every VM. */
    public static final long ANY_VM = -1;

    private final long from;
    private final long to;
    private final long vmId;
    private final RecordType type;
    private final JournalSet.Handler next;

    /**
     * @param from the first record number to pass on.
     * @param to   the last; the read stops after it.
     * @param vmId only this VM's records, or {@link #ANY_VM}.
     * @param type only records of this type, or null for every type.
     * @param next receives the records that match; its false stops the read.
     */
    public RecordFilter(final long from, final long to, final long vmId, final RecordType type,
        final JournalSet.Handler next)
    {
        this.from = from;
        this.to = to;
        this.vmId = vmId;
        this.type = type;
        this.next = next;
    }

    @Override
    public void onHosts(final int[] hosts)
    {
        next.onHosts(hosts);
    }

    @Override
    public boolean onRecord(final long seq, final int host, final long index, final JournalRecord record)
    {
        if (seq > to)
        {
            return false;
        }
        if (seq >= from && (vmId == ANY_VM || record.vmId() == vmId) && (type == null || record.type() == type))
        {
            return next.onRecord(seq, host, index, record);
        }
        return true;
    }
}
