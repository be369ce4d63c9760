package io.vmsched.schedule;

/**
 * A structural change to a schedule was refused: a duplicate vmId, a full schedule, an unknown
 * vmId, or a transition the entry's state does not allow. The message names the vmId and, where it
 * matters, the capacity.
 */
public class ScheduleException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what was refused and why.
     */
    public ScheduleException(final String message)
    {
        super(message);
    }
}
