CREATE TABLE "adapter_version" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"policy_id" text NOT NULL,
	"number" integer NOT NULL,
	"event" text NOT NULL,
	"source_version" integer NOT NULL,
	"training_step_id" text,
	"undone_version" integer,
	"checkpoint_id" text,
	"optimizer_step" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "checkpoint" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "checkpoint" ADD COLUMN "origin" text DEFAULT 'manual' NOT NULL;--> statement-breakpoint
ALTER TABLE "policy" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "training_step" ADD COLUMN "replay_of" text;--> statement-breakpoint
ALTER TABLE "adapter_version" ADD CONSTRAINT "adapter_version_owner_id_user_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "adapter_version" ADD CONSTRAINT "adapter_version_policy_id_policy_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policy"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "adapter_version" ADD CONSTRAINT "adapter_version_training_step_id_training_step_id_fk" FOREIGN KEY ("training_step_id") REFERENCES "public"."training_step"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "adapter_version" ADD CONSTRAINT "adapter_version_checkpoint_id_checkpoint_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."checkpoint"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "adapter_version_policy_number_idx" ON "adapter_version" USING btree ("policy_id","number");