CREATE TABLE "lease" (
	"kind" text NOT NULL,
	"resource_id" text NOT NULL,
	"holder" text NOT NULL,
	"acquired_at" timestamp with time zone DEFAULT now() NOT NULL,
	"renewed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "lease_kind_resource_id_pk" PRIMARY KEY("kind","resource_id")
);
--> statement-breakpoint
CREATE INDEX "lease_holder_idx" ON "lease" USING btree ("holder");