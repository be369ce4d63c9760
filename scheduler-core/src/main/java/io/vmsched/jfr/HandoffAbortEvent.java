package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A side journaled ABORTED: the VM runs on at the source. */
@Name(HandoffAbortEvent.NAME)
@Label("Handoff Abort")
@Description("A side journaled ABORTED: the VM runs on at the source")
@Category({"vmsched", "Handoff"})
public final class HandoffAbortEvent extends HandoffEvent
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.HandoffAbort";

    @Label("Side")
    @Description("source or target: which end journaled this abort")
    String side;

    @Label("Reason")
    @Description("The abort's coded reason (io.vmsched.journal.AbortReason's label), e.g. target-did-not-activate")
    String reason;

    @Label("Detail")
    @Description("The reason in words, as journaled")
    String detail;
}
