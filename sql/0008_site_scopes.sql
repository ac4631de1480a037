-- 0008: what a site may read beyond "does this person own this SKU" and its own orders is
-- granted explicitly, per site, by an operator (`sites create --scope ...`). The one scope
-- today, `enrollments:list`, lets a site list every owner of a SKU without naming a customer
-- (admins always may). A site registered before this migration has no scope.

ALTER TABLE sites
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{}'
        CONSTRAINT sites_known_scopes CHECK (scopes <@ ARRAY['enrollments:list']::text[]);
