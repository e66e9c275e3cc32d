from django.apps import AppConfig


class QuizConfig(AppConfig):
    name = "kepuyue.quiz"
    label = "quiz"
    verbose_name = "科普法知识测验"
