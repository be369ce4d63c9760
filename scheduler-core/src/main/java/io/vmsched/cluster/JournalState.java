package io.vmsched.cluster;

import io.vmsched.journal.HostJournalState;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Recovery's view of one host's journal: {@link HostJournalState} with guests kept, whose
 * {@link #owned()} recovery edits: it removes the VMs a commit point gives away before it starts the
 * rest. The journal's meaning is all in {@link HostJournalState}; this only adds the editable copy.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
final class JournalState extends HostJournalState
{
    private Map<Long, Owned> editable;

    private JournalState()
    {
        super(true);
    }

    /** @return an empty state, to be fed records (e.g. by {@link io.vmsched.journal.JournalCheck#verify}). */
    static JournalState empty()
    {
        return new JournalState();
    }

    /** Keeps the VMs a hypervisor runs once they left: recovery makes sure their copy here is gone. */
    @Override
    protected boolean keepDeparted(final String kind)
    {
        return kind != null && kind.startsWith(HostRuntime.DRIVEN_KIND_PREFIX);
    }

    /** @return VMs owned, by id: a copy, taken once the records are applied, that recovery may edit. */
    @Override
    public Map<Long, Owned> owned()
    {
        if (editable == null)
        {
            editable = new LinkedHashMap<>(super.owned());
        }
        return editable;
    }
}
