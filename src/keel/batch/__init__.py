"""The batch layer, below the gate and publishing: the window (which RAW rows form a
stream's batch, deduplicated by key), the batch identity, the watermark and bulk
reads of what the gate needs. The gate (``keel.quality``) and the MERGE
(``keel.publish``) both read the batch from here, so neither imports the other's
internals to know what "the batch" is."""
