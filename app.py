"""Dreamreel: make short AI videos, put yourself in them, remix your friends'.

This file only wires the Gradio page to the packages: ``studio`` (the app's
use cases, accounts and views) over ``feed_store``, ``cameo`` and ``pipeline``.
Every handler learns who is acting from the session (or Hugging Face
sign-in), never from a value the page sends.
"""

from __future__ import annotations

import gradio as gr

from vocabulary import CLIP_RULE, FEEDS, REPORT_REASONS
from web import App, api, views
from web.inputs import UPLOAD_CACHE_SECONDS
from web.views import notice, user_facing

app = App.from_env()
studio, accounts = app.studio, app.accounts


# -- session -------------------------------------------------------------------------------------

def restore(saved: str | None, request: gr.Request):
    """On page load: the session saved in this browser, and the post a shared link names."""
    user = accounts.user_for(saved)
    token = saved if user is not None else None
    return token, token, app.whoami(user), request.query_params.get("post") or ""


def restore_on_space(saved: str | None, request: gr.Request, profile: gr.OAuthProfile | None):
    """On a Space: the visitor's Hugging Face account is their Dreamreel account."""
    if profile is None:
        return None, None, app.whoami(None), request.query_params.get("post") or ""
    return restore(accounts.sign_in_external(profile.username, profile.name), request)


@user_facing
def sign_up(handle: str, password: str, invite: str, request: gr.Request):
    token = accounts.sign_up(handle, password, invite, address=app.client_address(request))
    return token, token, app.whoami(accounts.user_for(token))


@user_facing
def sign_in(handle: str, password: str):
    token = accounts.sign_in(handle, password)
    return token, token, app.whoami(accounts.user_for(token))


def sign_out(session: str | None):
    accounts.sign_out(session)  # the token stops working, in this browser and any copy of it
    return None, None, app.whoami(None)


@user_facing
def sign_out_everywhere(session: str | None):
    ended = accounts.sign_out_everywhere(session)
    notice(f"Signed out of {ended} session{'' if ended == 1 else 's'}, on every device.")
    return None, None, app.whoami(None)


def publish_row(label: str):
    """A draft's id and the controls that publish it."""
    draft_id = gr.Number(visible=False, precision=0)
    with gr.Row():
        visibility = gr.Radio(["public", "friends"], value="public", label="Who can see it")
        hide_prompt = gr.Checkbox(label="Hide my prompt")
        publish = gr.Button(label)
    return draft_id, visibility, hide_prompt, publish, gr.Markdown()


# Gradio keeps uploads in its cache only this long; handlers read private copies (web/inputs.py).
with gr.Blocks(title="Dreamreel", delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS)) as demo:
    api.register(app)  # first, so the endpoints keep their plain names
    token = gr.State(None)
    saved = gr.BrowserState(None, storage_key="dreamreel-session", secret=app.browser_secret)
    shown, cursor, shared = gr.State([]), gr.State(None), gr.Textbox(visible=False)
    gr.Markdown("# Dreamreel\nShort AI videos starring you and your friends.")
    whoami = gr.Markdown()

    with gr.Tabs() as tabs:
        with gr.Tab("Feed", id="feed"):
            which = gr.Radio(list(FEEDS), value="For you", show_label=False)

            @gr.render(inputs=[token, shown, shared])
            def show_feed(session, ids, shared_id):
                viewer = accounts.user_for(session)
                first = [int(shared_id)] if (shared_id or "").isdigit() else []  # a shared link's post on top
                for post_id in first + [i for i in ids if i not in first]:
                    app.post_card(viewer, post_id, token, tabs, remix_source)

            more = gr.Button("Load more", visible=False)

        with gr.Tab("Create", id="create"):
            prompt = gr.Textbox(label="Prompt", placeholder="a red ball bouncing on a beach at sunset, @yourhandle")
            cameo_picker = gr.Dropdown(label="Star a cameo", multiselect=True, choices=[],
                                       info="Only cameos you may use are offered.")
            with gr.Accordion("Settings", open=False):
                frames = gr.Dropdown([16], value=16, label="Frames")
                steps = gr.Slider(1, 50, value=12, step=1, label="Steps")
                seed = gr.Number(label="Seed (empty = random)", precision=0)
                size = gr.Dropdown(label="Size (width x height)", choices=app.sizes(), value="256x256")
            with gr.Row():
                make = gr.Button("Generate", variant="primary")
                stop = gr.Button("Cancel", variant="stop")
            draft = gr.Video(label="Your draft", autoplay=True, loop=True, interactive=False, elem_id="draft")
            draft_id, visibility, hide_prompt, publish, publish_status = publish_row("Publish")

        with gr.Tab("Remix", id="remix"):
            remix_source = gr.Number(label="Remix post #", precision=0)
            source_view = gr.Video(label="Source", interactive=False)
            lineage = gr.HTML()
            remix_prompt = gr.Textbox(label="New prompt")
            strength = gr.Slider(0.1, 1.0, value=0.6, step=0.05, label="How far from the source")
            with gr.Row():
                remix = gr.Button("Remix", variant="primary")
                remix_stop = gr.Button("Cancel", variant="stop")
            remix_draft = gr.Video(label="Your remix (draft)", autoplay=True, loop=True, interactive=False)
            remix_id, remix_visibility, remix_hide, remix_publish, remix_status = publish_row("Publish remix")

        with gr.Tab("Cameo", id="cameo"):
            instructions = gr.Markdown()
            recording = gr.Video(label=f"Record or upload a clip of {CLIP_RULE}", sources=["webcam", "upload"])
            keep = gr.Checkbox(label="Keep my recording (otherwise only face crops are kept)")
            record = gr.Button("Make my cameo", variant="primary")
            verdict = gr.Markdown()
            with gr.Group():
                permission = gr.Radio(["only_me", "approved", "mutuals", "everyone"], label="Who may use my cameo")
                approved = gr.Textbox(label="Approved people (handles, comma-separated)")
                restrictions = gr.Textbox(label="Restrictions (e.g. no political content)")
                save_permission = gr.Button("Save")
            gr.Markdown("### Videos with my cameo (drafts by others included)")
            cameo_videos = gr.State([])

            @gr.render(inputs=[token, cameo_videos])
            def show_cameo_videos(session, posts):
                for post in posts:
                    app.cameo_use_row(post, token, cameo_videos)

            with gr.Row():
                revoke = gr.Button("Revoke everyone's use")
                delete_cameo = gr.Button("Delete my cameo", variant="stop")

        with gr.Tab("Profile", id="profile"):
            profile_handle = gr.Textbox(label="Whose profile", placeholder="a handle; empty for yours")
            people = gr.HTML()
            with gr.Row():
                follow = gr.Button("Follow")
                unfollow = gr.Button("Unfollow")
                block = gr.Button("Block", variant="stop")
                unblock = gr.Button("Unblock")
            with gr.Row():
                user_reason = gr.Dropdown(list(REPORT_REASONS), value=REPORT_REASONS[0], show_label=False, scale=3)
                report_user = gr.Button("Report this account", scale=1)
            profile_posts = gr.State([])

            @gr.render(inputs=[token, profile_posts])
            def show_profile_posts(session, ids):
                viewer = accounts.user_for(session)
                for post_id in ids:
                    app.post_card(viewer, post_id, token, tabs, remix_source)

            invite = gr.Button("New invite code")
            invites = gr.Markdown()

        with gr.Tab("Verify", id="verify"):
            gr.Markdown("Upload any video to learn whether it was made here, which post it is, and whether its "
                        "invisible watermark and content credentials (C2PA) survived.")
            to_check = gr.File(label="A video (MP4)", file_types=["video"], elem_id="verify-upload")
            check = gr.Button("Check this video", variant="primary")
            verdict_html = gr.HTML(elem_id="verify-result")
            found_video = gr.Video(label="The post it came from", interactive=False, height=320)

        with gr.Tab("Moderation", id="moderation", visible=False) as moderation_tab:
            gr.Markdown("### Open reports")
            open_reports = gr.State([])

            @gr.render(inputs=[token, open_reports])
            def show_reports(session, reports):
                if not reports:
                    gr.Markdown("Nothing to review.")
                for report in reports:
                    app.report_row(accounts.user_for(session), report, token, moderation_view)

            gr.Markdown("### Refused prompts and comments")
            refused = gr.HTML()
            gr.Markdown("### Moderation log")
            moderation_log = gr.HTML()
            refresh_moderation = gr.Button("Refresh")

        with gr.Tab("Account", id="account"):
            if app.on_space:
                gr.LoginButton()
            with gr.Row(visible=not app.on_space):
                with gr.Column():
                    gr.Markdown("### Sign up (invite only)")
                    new_handle = gr.Textbox(label="Choose a handle")
                    new_password = gr.Textbox(label="Choose a password", type="password")
                    invite_code = gr.Textbox(label="Invite code")
                    signup = gr.Button("Sign up", variant="primary")
                with gr.Column():
                    gr.Markdown("### Sign in")
                    handle = gr.Textbox(label="Your handle")
                    password = gr.Textbox(label="Your password", type="password")
                    signin = gr.Button("Sign in")
            with gr.Row():
                signout = gr.Button("Sign out")
                signout_everywhere = gr.Button("Sign out everywhere")

    session_out = [token, saved, whoami]
    loaded = demo.load(restore_on_space if app.on_space else restore, [saved], session_out + [shared],
                       api_visibility="private")
    loaded.then(lambda *a: app.load_feed(*a, False), [token, which, shown, cursor], [shown, cursor, more],
                api_visibility="private")
    signup.click(sign_up, [new_handle, new_password, invite_code], session_out, api_visibility="private")
    signin.click(sign_in, [handle, password], session_out, api_visibility="private")
    signout.click(sign_out, [token], session_out, api_visibility="private")
    signout_everywhere.click(sign_out_everywhere, [token], session_out, api_visibility="private")

    feed_args = [token, which, shown, cursor]
    gr.on([which.change, token.change], lambda *a: app.load_feed(*a, False), feed_args, [shown, cursor, more],
          api_visibility="private")
    more.click(lambda *a: app.load_feed(*a, True), feed_args, [shown, cursor, more], api_visibility="private")

    gr.on([tabs.select, token.change], app.create_choices, [token], [cameo_picker, frames, steps, size],
          api_visibility="private")
    making = make.click(app.generate_draft, [token, prompt, cameo_picker, frames, steps, seed, size], [draft, draft_id],
                        concurrency_limit=1, concurrency_id="generate", api_visibility="private")
    stop.click(app.cancel, [token], None, cancels=[making], api_visibility="private")
    publish.click(app.publish, [token, draft_id, visibility, hide_prompt], [publish_status], api_visibility="private")

    remix_source.change(app.remix_source, [token, remix_source], [source_view, lineage, remix_prompt],
                        api_visibility="private")
    remixing = remix.click(app.generate_remix, [token, remix_source, remix_prompt, strength], [remix_draft, remix_id],
                           concurrency_limit=1, concurrency_id="generate", api_visibility="private")
    remix_stop.click(app.cancel, [token], None, cancels=[remixing], api_visibility="private")
    remix_publish.click(app.publish, [token, remix_id, remix_visibility, remix_hide], [remix_status],
                        api_visibility="private")

    cameo_view = [instructions, permission, approved, restrictions, cameo_videos]
    gr.on([tabs.select, token.change], app.cameo_page, [token], cameo_view, api_visibility="private")
    record.click(app.make_cameo, [token, recording, keep], [verdict] + cameo_view, api_visibility="private")
    save_permission.click(app.save_permission, [token, permission, approved, restrictions], [verdict],
                          api_visibility="private")
    revoke.click(app.revoke, [token], [verdict, permission], api_visibility="private")
    delete_cameo.click(app.delete_cameo, [token], [verdict, cameo_videos], api_visibility="private")

    # always_last: a handle submitted while the tab's own refresh is still running is shown after it, not dropped.
    gr.on([profile_handle.submit, tabs.select, token.change], app.profile, [token, profile_handle],
          [people, profile_posts], api_visibility="private", trigger_mode="always_last")
    for button, action in ((follow, "follow"), (unfollow, "unfollow"), (block, "block"), (unblock, "unblock")):
        button.click(app.relate(action), [token, profile_handle], [people, profile_posts], api_visibility="private")
    report_user.click(app.report_user, [token, profile_handle, user_reason], None, api_visibility="private")
    invite.click(app.new_invite, [token], [invites], api_visibility="private")

    check.click(app.verify, [token, to_check], [verdict_html, found_video], api_visibility="private")
    moderation_view = [moderation_tab, open_reports, refused, moderation_log]
    gr.on([token.change, refresh_moderation.click], app.moderation_page, [token], moderation_view,
          api_visibility="private")


if __name__ == "__main__":
    demo.queue(default_concurrency_limit=8).launch(server_name=app.settings.host, server_port=app.settings.port,
                                                   css=views.CSS, prevent_thread_lock=True, **app.launch_options())
    app.start()  # after the page is up: the model and the demo community load in the background
    demo.block_thread()
