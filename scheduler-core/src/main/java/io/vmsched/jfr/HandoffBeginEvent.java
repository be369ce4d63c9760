package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** The source journaled MIGRATION_INTENT and stops the VM: a handoff begins. */
@Name(HandoffBeginEvent.NAME)
@Label("Handoff Begin")
@Description("The source journaled MIGRATION_INTENT and stops the VM")
@Category({"vmsched", "Handoff"})
public final class HandoffBeginEvent extends HandoffEvent
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.HandoffBegin";

    @Label("Load Here")
    @Description("The VM's load on the source, as a fraction of its capacity")
    double loadOnSource;

    @Label("Load There")
    @Description("The VM's load on the target, as a fraction of its capacity")
    double loadOnTarget;
}
