package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.StackTrace;

/**
 * What every handoff step's event carries: the host that emitted it, the migration, the VM, and the
 * migration's two ends. Stack traces are off: every step happens on a host's agent thread, whose stack
 * says nothing more.
 * <p>
 * <b>Note:</b> Not threadsafe: one event object per emission.
 */
@Category({"vmsched", "Handoff"})
@StackTrace(false)
public abstract class HandoffEvent extends Event
{
    @Label("Host")
    @Description("The host that took this step")
    int host;

    @Label("Migration Id")
    @Description("The migration (its id names its source host and its sequence there)")
    long migrationId;

    @Label("VM Id")
    long vmId;

    @Label("Source")
    @Description("The host the VM leaves")
    int source;

    @Label("Target")
    @Description("The host the VM goes to")
    int target;

    final void set(final int host, final long migrationId, final long vmId, final int source, final int target)
    {
        this.host = host;
        this.migrationId = migrationId;
        this.vmId = vmId;
        this.source = source;
        this.target = target;
    }
}
