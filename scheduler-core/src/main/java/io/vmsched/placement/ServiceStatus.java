package io.vmsched.placement;

/**
 * A change of a service's status, as the operator is told of it: by the cluster listener, a journal
 * record and a log line.
 *
 * @param service  the service.
 * @param health   its status now.
 * @param previous its status before (null for the first status after a start or the service's definition).
 * @param cause    why, in words (e.g. "vm 3 suspended", "hard anti-affinity rule 'spread' over service web broken by vm 2").
 * @param epochMs  when the change was seen, milliseconds since the epoch.
 */
public record ServiceStatus(String service, ServiceHealth health, ServiceHealth previous, String cause, long epochMs)
{
    /** @return the change as a log line. */
    @Override
    public String toString()
    {
        return "service " + service + " " + (previous == null ? "" : previous.word() + " -> ") + health.word() + ": " + cause;
    }
}
