from django.contrib.auth.backends import ModelBackend

from tongban.accounts.models import User
from tongban.accounts.services import login_failed, login_locked_until, login_succeeded


class LockoutAwareBackend(ModelBackend):
    """Django's model backend, refusing locked accounts and counting failures toward a lock."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            User().set_password(
                password
            )  # same work as a real check: no timing hint that the name is unknown
            return None
        if login_locked_until(user):
            if request is not None:
                request.tongban_locked = True
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            login_succeeded(user)
            return user
        login_failed(user)
        return None

    def get_user(self, user_id):
        """The signed-in user of a page, with their organisation in the same query: the workbench,
        the header and every access check of a staff page look at it."""
        try:
            user = User._default_manager.select_related("organisation").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
