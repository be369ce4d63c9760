package io.vmsched.balloon;

/**
 * What the host asks of a guest's balloon: a target for its memory and for its processors. Immutable.
 * <p>
 * Processors are the guest's <b>weight</b> in its host's proportional share (the dispatcher gives each
 * guest slices in proportion to its weight), so "fewer processors" is a smaller share of the host's
 * workers, never a guest left with none.
 *
 * @param requestId   the host's id of the request (unique per host), echoed by the result.
 * @param vmId        the VM asked.
 * @param memoryBytes the memory the guest should hold, bytes; {@link #UNCHANGED} to leave it.
 * @param processors  the weight the guest should run at, at least 1; {@link #UNCHANGED} to leave it.
 * @param deadlineNs  when an answer stops counting, on the host's nano clock: none by then is a refusal.
 */
public record BalloonRequest(long requestId, long vmId, long memoryBytes, int processors, long deadlineNs)
{
    /** A target left as it is. */
    public static final int UNCHANGED = -1;

    /**
     * @throws IllegalArgumentException if a target is neither {@link #UNCHANGED} nor in range (memory at least 0,
     *                                  processors at least 1), or both are unchanged.
     */
    public BalloonRequest
    {
        if (memoryBytes < 0 && memoryBytes != UNCHANGED)
        {
            throw new IllegalArgumentException("a balloon's memory target must be at least 0 bytes, got " + memoryBytes);
        }
        if (processors < 1 && processors != UNCHANGED)
        {
            throw new IllegalArgumentException("a balloon's processor target must be a weight of at least 1, got " + processors);
        }
        if (memoryBytes == UNCHANGED && processors == UNCHANGED)
        {
            throw new IllegalArgumentException("a balloon request must ask for memory or processors");
        }
    }
}
