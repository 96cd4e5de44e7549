ALTER TABLE "adapter_version" ADD CONSTRAINT "adapter_version_event_check" CHECK ("adapter_version"."event" in ('trained', 'undo', 'restore', 'reset'));--> statement-breakpoint
ALTER TABLE "allow_rule" ADD CONSTRAINT "allow_rule_kind_check" CHECK ("allow_rule"."kind" in ('tool', 'path', 'bash_prefix'));--> statement-breakpoint
ALTER TABLE "checkpoint" ADD CONSTRAINT "checkpoint_origin_check" CHECK ("checkpoint"."origin" in ('step', 'manual'));--> statement-breakpoint
ALTER TABLE "checkpoint" ADD CONSTRAINT "checkpoint_kind_check" CHECK ("checkpoint"."kind" in ('state', 'sampler', 'peft'));--> statement-breakpoint
ALTER TABLE "conversation" ADD CONSTRAINT "conversation_state_check" CHECK ("conversation"."state" in ('idle', 'sampling', 'proposed', 'executing', 'training', 'failed'));--> statement-breakpoint
ALTER TABLE "conversation_event" ADD CONSTRAINT "conversation_event_type_check" CHECK ("conversation_event"."type" in ('message', 'tokens', 'proposal', 'decision', 'tool_started', 'result', 'training_step', 'state', 'context', 'rewind', 'error', 'probe'));--> statement-breakpoint
ALTER TABLE "correction" ADD CONSTRAINT "correction_kind_check" CHECK ("correction"."kind" in ('denial', 'edit', 'tool_failure', 'answer', 'approval'));--> statement-breakpoint
ALTER TABLE "lease" ADD CONSTRAINT "lease_kind_check" CHECK ("lease"."kind" in ('conversation', 'policy'));--> statement-breakpoint
ALTER TABLE "message" ADD CONSTRAINT "message_role_check" CHECK ("message"."role" in ('system', 'user', 'assistant', 'tool'));--> statement-breakpoint
ALTER TABLE "policy" ADD CONSTRAINT "policy_backend_check" CHECK ("policy"."backend" in ('embedded', 'tinker'));--> statement-breakpoint
ALTER TABLE "tool_call" ADD CONSTRAINT "tool_call_status_check" CHECK ("tool_call"."status" in ('proposed', 'approved', 'auto_approved', 'denied', 'edited', 'executing', 'succeeded', 'observed', 'failed', 'interrupted'));--> statement-breakpoint
ALTER TABLE "training_step" ADD CONSTRAINT "training_step_status_check" CHECK ("training_step"."status" in ('queued', 'running', 'done', 'failed'));--> statement-breakpoint
ALTER TABLE "training_step" ADD CONSTRAINT "training_step_loss_fn_check" CHECK ("training_step"."loss_fn" in ('cross_entropy', 'importance_sampling', 'ppo', 'cispo', 'reverse_kl', 'topk_reverse_kl'));--> statement-breakpoint
ALTER TABLE "user" ADD CONSTRAINT "user_role_check" CHECK ("user"."role" in ('admin', 'user'));