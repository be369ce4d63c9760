package io.vmsched.journal;

/**
 * A journal record that cannot be decoded: torn, of an unknown schema, or failing its CRC32C. The
 * message names the journal and the record's index.
 */
public final class JournalCorruptException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long index;

    /**
     * @param where  the journal (its directory).
     * @param index  the bad record's index.
     * @param reason what is wrong with it.
     */
    public JournalCorruptException(final String where, final long index, final String reason)
    {
        super("journal " + where + ": " + (index < 0 ? "at its first record" : "record " + index) + ": " + reason);
        this.index = index;
    }

    /** @return the bad record's index. */
    public long index()
    {
        return index;
    }
}
