CREATE TABLE "file_snapshot" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"tool_call_id" text,
	"rewind_id" text,
	"path" text NOT NULL,
	"sha256" text,
	"mode" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "snapshot_blob" (
	"owner_id" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "snapshot_blob_owner_id_sha256_pk" PRIMARY KEY("owner_id","sha256")
);
--> statement-breakpoint
ALTER TABLE "tool_call" ADD COLUMN "review" jsonb;--> statement-breakpoint
ALTER TABLE "file_snapshot" ADD CONSTRAINT "file_snapshot_owner_id_user_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_snapshot" ADD CONSTRAINT "file_snapshot_conversation_id_conversation_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversation"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_snapshot" ADD CONSTRAINT "file_snapshot_tool_call_id_tool_call_id_fk" FOREIGN KEY ("tool_call_id") REFERENCES "public"."tool_call"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_blob" ADD CONSTRAINT "snapshot_blob_owner_id_user_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "file_snapshot_conversation_idx" ON "file_snapshot" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "file_snapshot_rewind_idx" ON "file_snapshot" USING btree ("rewind_id");