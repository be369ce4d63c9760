package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A service's status changed (or was first computed after a start or its definition), as the operator is told. */
@Name(ServiceStatusEvent.NAME)
@Label("Service Status")
@Description("A service's status changed: healthy, degraded or failed")
@Category({"vmsched", "Services"})
@StackTrace(false)
public final class ServiceStatusEvent extends Event
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.ServiceStatus";

    @Label("Service")
    String service;

    @Label("Status")
    @Description("healthy, degraded or failed")
    String status;

    @Label("Previous")
    @Description("The status before, empty for the first after a start or the service's definition")
    String previous;

    @Label("Cause")
    String cause;
}
