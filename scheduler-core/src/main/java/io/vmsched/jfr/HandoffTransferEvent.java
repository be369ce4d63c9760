package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** The source journaled SUSPENDED with the guest's snapshot and sent the transfer to the target. */
@Name(HandoffTransferEvent.NAME)
@Label("Handoff Transfer")
@Description("The source journaled SUSPENDED with the guest's snapshot and sent the transfer")
@Category({"vmsched", "Handoff"})
public final class HandoffTransferEvent extends HandoffEvent
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.HandoffTransfer";

    @Label("Message Size")
    @Description("The transfer message's length, the guest's state included")
    @DataAmount
    int bytes;
}
