package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/** The source learned the target activated the VM: COMMITTED journaled, its copy dropped. */
@Name(HandoffCommitEvent.NAME)
@Label("Handoff Commit")
@Description("The source journaled COMMITTED and dropped its copy of the VM")
@Category({"vmsched", "Handoff"})
public final class HandoffCommitEvent extends HandoffEvent
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.HandoffCommit";

    @Label("Handoff Duration")
    @Description("From MIGRATION_INTENT to COMMITTED at the source")
    @Timespan(Timespan.NANOSECONDS)
    long handoffDuration;
}
