INSERT INTO magsync_batches (batch_id, flow, shop, stage, channel, sequence, tag_sha256, parent,
                             edited, applied_at, records, inserted, updated, unchanged, rejected)
VALUES (:batch_id, :flow, :shop, :stage, :channel, :sequence, :tag_sha256, :parent,
        :edited, :now, :records, :inserted, :updated, :unchanged, :rejected)
