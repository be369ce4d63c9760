package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** The target journaled ACTIVATED, the commit point: the VM is the target's from here; the ack to the source follows. */
@Name(HandoffAckEvent.NAME)
@Label("Handoff Ack")
@Description("The target journaled ACTIVATED, the commit point: the VM is the target's; the ack follows")
@Category({"vmsched", "Handoff"})
public final class HandoffAckEvent extends HandoffEvent
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.HandoffAck";
}
