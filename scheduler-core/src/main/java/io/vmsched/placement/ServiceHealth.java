package io.vmsched.placement;

/** A service's status, computed continuously from its VMs and its rules. */
public enum ServiceHealth
{
    /** All its VMs running, no hard rule broken (and, for healthy, no soft one either). */
    HEALTHY,
    /** Some VM suspended or failed, a soft rule broken, fewer VMs than its size, or a member migrating too long. */
    DEGRADED,
    /** Fewer VMs running than its minimum, or a hard rule broken. */
    FAILED;

    /** @return the status as reports write it. */
    public String word()
    {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
